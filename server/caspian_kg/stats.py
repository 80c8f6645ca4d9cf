"""Figures about the loaded graph, for `caspian-kg stats`, /health and the dataset description."""

from __future__ import annotations

from typing import Any

from .graph import KnowledgeGraph

CLASSES_QUERY = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class . FILTER(isIRI(?class)) }
GROUP BY ?class ORDER BY DESC(?n) ?class
"""

MEMBERSHIPS_QUERY = """
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?orgLabel ?roleLabel (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?m a org:Membership ; org:organization ?o .
  ?o rdfs:label ?orgLabel .
  OPTIONAL { ?m org:role/rdfs:label ?r }
  BIND(COALESCE(?r, "(role not stated)") AS ?roleLabel)
} GROUP BY ?orgLabel ?roleLabel ORDER BY ?orgLabel ?roleLabel
"""


def compute(kg: KnowledgeGraph) -> dict[str, Any]:
    per_graph = {name: len(kg.dataset.graph(iri)) for name, iri in kg.graphs.items()}
    inferred = per_graph.get("inferred", 0)
    nm = kg.dataset.namespace_manager
    classes = {
        row.get("class").n3(nm): int(row.get("n"))  # type: ignore[union-attr,arg-type]
        for row in kg.dataset.query(CLASSES_QUERY)  # type: ignore[union-attr]
    }
    memberships = [
        {"organisation": str(r.get("orgLabel")), "role": str(r.get("roleLabel")), "count": int(r.get("n"))}  # type: ignore
        for r in kg.dataset.query(MEMBERSHIPS_QUERY)  # type: ignore[union-attr]
    ]
    return {
        "version": kg.version,
        "triples": {"asserted": sum(per_graph.values()) - inferred, "inferred": inferred, "per_graph": per_graph},
        "timings_seconds": {k: round(v, 3) for k, v in kg.timings.items()},
        "classes": classes,
        "memberships": memberships,
        "inconsistencies": kg.inconsistencies,
    }


def render_text(stats: dict[str, Any], top_classes: int = 25) -> str:
    lines = [f"dataset version {stats['version']}", "", "triples per named graph:"]
    for name, n in stats["triples"]["per_graph"].items():
        lines.append(f"  {n:>8}  {name}")
    t = stats["triples"]
    lines += [f"  {t['asserted']:>8}  asserted (total)", f"  {t['inferred']:>8}  inferred (OWL 2 RL closure)", ""]
    lines.append("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in stats["timings_seconds"].items()))
    lines += ["", f"instances per class (top {top_classes} of {len(stats['classes'])}):"]
    for cls, n in list(stats["classes"].items())[:top_classes]:
        lines.append(f"  {n:>6}  {cls}")
    lines += ["", "memberships by organisation and role:"]
    for m in stats["memberships"]:
        lines.append(f"  {m['count']:>4}  {m['role']:<18} {m['organisation']}")
    if stats["inconsistencies"]:
        lines += ["", "OWL 2 RL inconsistencies:"] + [f"  {m}" for m in stats["inconsistencies"]]
    return "\n".join(lines)
