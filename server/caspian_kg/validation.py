"""Checks run at load time: SHACL shapes and verbatim evidence.

Both return a list of one-line problems (empty = valid) so the loader can refuse the data as a
whole and the CLI can print every problem, not just the first.
"""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef

from .config import Config
from .graph import KnowledgeGraph
from .vocab import PROV, SH, ck


def validate(kg: KnowledgeGraph, config: Config) -> list[str]:
    return shacl_problems(kg, config) + evidence_problems(kg, config)


def data_graph(kg: KnowledgeGraph) -> Graph:
    """Asserted facts (not the ontology) plus the closure, as one plain graph for pyshacl."""
    graph = Graph()
    for name, iri in kg.graphs.items():
        if name != "ontology":
            for triple in kg.dataset.graph(iri):
                graph.add(triple)
    return graph


def shacl_problems(kg: KnowledgeGraph, config: Config) -> list[str]:
    # pyshacl costs 20 MB and 0.2 s to import: only a load that validates pays for it
    from pyshacl import validate as shacl

    shapes = Graph().parse(config.ontology_dir / "shapes.ttl", format="turtle")
    conforms, report, text = shacl(data_graph(kg), shacl_graph=shapes, inference="none", advanced=True)
    if conforms:
        return []
    if not isinstance(report, Graph):  # pyshacl could not run the shapes at all
        return [f"SHACL: shapes graph unusable: {' '.join(str(text).split())}"]
    problems = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        where = f" {_short(kg, path)}" if path is not None else ""
        problems.append(f"SHACL: {_short(kg, focus)}{where}: {message}")
    return sorted(problems)


def evidence_problems(kg: KnowledgeGraph, config: Config) -> list[str]:
    """Every ck:evidence and ck:text in a source graph must be a verbatim substring of that
    graph's source text (the document's ck:textFile)."""
    ck_ = ck(kg.base)
    problems = []
    for slug, iri in kg.source_graphs().items():
        graph = kg.dataset.graph(iri)
        texts = {}
        for doc, path in graph.subject_objects(ck_.textFile):
            file = config.data_dir / str(path)
            if not file.is_file():
                problems.append(f"evidence: {_short(kg, doc)}: text file {path} not found")
                continue
            try:
                texts[doc] = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"evidence: {_short(kg, doc)}: text file {path} cannot be read as UTF-8 ({exc})")
        if not texts:
            problems.append(f"evidence: graph source/{slug} describes no ck:SourceDocument with ck:textFile")
            continue
        for node, prop in ((s, p) for p in (ck_.evidence, ck_.text) for s in graph.subjects(p, None)):
            docs = [d for d in graph.objects(node, PROV.wasDerivedFrom) if d in texts] or list(texts)
            for passage in graph.objects(node, prop):
                if not any(str(passage) in texts[d] for d in docs):
                    problems.append(
                        f"evidence: {_short(kg, node)} {_short(kg, prop)} is not verbatim in "
                        f"{', '.join(_short(kg, d) for d in docs)}: {str(passage)[:60]!r}"
                    )
    return sorted(set(problems))


def _short(kg: KnowledgeGraph, term: object) -> str:
    if isinstance(term, URIRef):
        return term.n3(kg.dataset.namespace_manager)
    if isinstance(term, Literal):
        return repr(str(term))
    return str(term)
