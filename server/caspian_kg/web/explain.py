"""`GET /explain?s=<IRI>&p=<IRI>&o=<IRI or N-Triples literal>`: why a statement holds.

The URL is a contract (resource pages link "why?" to it). Same service as `caspian-kg explain`
(`explain.explainer(kg).explain`): HTML for browsers — the statement in words, the rule, the
axioms and the premises down to the asserted statements, each with its source passage and a link
to its source document — or PROV-O (JSON-LD, Turtle or any graph format) by `Accept` or
`format=`. An asserted statement answers 200 saying so, with its evidence; a statement that is
not in the graph 404; a missing, repeated or malformed parameter 400 (one line each).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, request
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from ..errors import BadRequest
from ..explain import (
    BASIS_TEXT,
    Explainer,
    Explanation,
    Proof,
    explainer,
    label,
    parse_term,
    rule_text,
    sentence,
)
from ..formats import HTML, JSONLD, TURTLE, serialize_graph
from ..graph import KnowledgeGraph
from ..provenance import PROV_FORMATS, explain_url, graph_name, prov_graph, term_text
from ..reasoning.derivations import Triple
from . import helpers
from .resource_page import View
from .state import current

bp = Blueprint("explain", __name__, template_folder="templates", static_folder="static",
               static_url_path="/explain-static")

# HTML first (browsers), then PROV-O: JSON-LD and Turtle named first, every graph format offered
OFFERED = (HTML, *PROV_FORMATS)
PARAMETERS = ("s", "p", "o", "format")


@bp.get("/explain")
def explain_view() -> Response:
    state = current()
    kg = state.kg
    unknown = sorted(set(request.args) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"unknown parameter {unknown[0]!r}; /explain takes s, p, o and format")
    prefixes = kg.prefixes()
    triple = tuple(parse_term(helpers.single(request.args, name), prefixes, name) for name in "spo")
    fmt = helpers.choose(OFFERED)
    engine: Explainer = state.derived("explainer", explainer)
    explanation = engine.explain(triple)  # type: ignore[arg-type]
    key = " ".join(term.n3() for term in triple).encode("utf-8")
    variant = f"explain-{fmt.name}-{hashlib.sha256(key).hexdigest()[:16]}"
    if fmt is HTML:
        return helpers.conditional(lambda: helpers.html("explain.html", **page(kg, engine, explanation)).get_data(),
                                   fmt, variant)
    return helpers.conditional(lambda: serialize_graph(prov_graph(kg, explanation, engine.lookup), fmt), fmt, variant,
                               **{"Cache-Control": helpers.CACHE_CONTROL})


def page(kg: KnowledgeGraph, engine: Explainer, explanation: Explanation) -> dict[str, Any]:
    """The template's context: every statement in words, with links."""
    view = View(kg, kg.dataset)
    shown: set[Triple] = set()

    def term(node: Node) -> dict[str, Any]:
        text = label(kg, node, engine.lookup)
        href = view.href(str(node)) if isinstance(node, URIRef) else None
        return {"text": text, "href": href, "code": term_text(kg, engine, node),
                "literal": isinstance(node, Literal)}

    def statement(proof: Proof) -> dict[str, Any]:
        t = proof.triple
        repeated = t in shown and not proof.asserted
        shown.add(t)
        out: dict[str, Any] = {
            "terms": [term(x) for x in t], "sentence": sentence(kg, t, engine.lookup), "asserted": proof.asserted,
            "code": " ".join(term_text(kg, engine, x) for x in t), "repeated": repeated,
            "why": None if proof.asserted or any(isinstance(x, BNode) for x in t) else explain_path(kg, t),
            "rule": proof.rule, "rule_text": rule_text(proof.rule), "citations": [], "axioms": [], "premises": []}
        if repeated:
            return out
        for cite in proof.citations:
            out["citations"].append({
                "graph": graph_name(kg, cite.graph),
                "node": term(cite.node) if cite.node is not None and cite.node not in t else None,
                "document": term(cite.document) if cite.document is not None else None,
                "passages": list(cite.passages),
                "reference": view.href(str(cite.reference)) if cite.reference is not None else None})
        out["axioms"] = [statement(a) for a in proof.axioms]
        out["premises"] = [statement(p) for p in proof.premises]
        return out

    return {
        "statement": statement(explanation.proof),
        "alternatives": [statement(a) for a in explanation.alternatives],
        "basis": explanation.basis, "basis_text": BASIS_TEXT[explanation.basis],
        "rests_on": [graph_name(kg, g) for g in explanation.rests_on],
        "data_links": {f.name: explain_path(kg, explanation.triple) + f"&format={f.name}" for f in (JSONLD, TURTLE)},
    }


def explain_path(kg: KnowledgeGraph, triple: Triple) -> str:
    """The local /explain URL of a statement (the canonical one is `{base}explain?…`)."""
    return request.script_root + "/" + explain_url(kg.base, triple)[len(kg.base):]
