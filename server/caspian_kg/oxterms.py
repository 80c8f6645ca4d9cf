"""pyoxigraph terms and results as rdflib's, shared by the Oxigraph store and the compiled reasoner.

A plain literal must come back plain: rdflib tells "x" and "x"^^xsd:string apart, RDF 1.1 and
Oxigraph do not, and rdflib's parser reads the data's strings as plain literals.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.plugins.sparql.processor import SPARQLResult

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def oxigraph_store(dataset: Dataset) -> Any | None:
    """The pyoxigraph.Store behind an oxrdflib-backed Dataset, else None."""
    store = dataset.store
    return store._inner if isinstance(store, OxigraphStore) else None


def to_rdflib(value: Any) -> Any:
    """One pyoxigraph term as an rdflib term (xsd:string literals plain)."""
    if isinstance(value, ox.NamedNode):
        return URIRef(value.value)
    if isinstance(value, ox.BlankNode):
        return BNode(value.value)
    if value.language:
        return Literal(value.value, lang=value.language)
    datatype = value.datatype.value
    return Literal(value.value, datatype=None if datatype == XSD_STRING else datatype)


def to_result(result: Any) -> SPARQLResult:
    """A pyoxigraph query result as an rdflib SPARQLResult (what rdflib's writers expect)."""
    if isinstance(result, ox.QueryBoolean):
        return SPARQLResult({"type_": "ASK", "askAnswer": bool(result)})
    if isinstance(result, ox.QuerySolutions):
        variables = [Variable(v.value) for v in result.variables]
        bindings = [{var: to_rdflib(value) for var, value in zip(variables, solution) if value is not None}
                    for solution in result]
        return SPARQLResult({"type_": "SELECT", "vars_": variables, "bindings": bindings})
    graph = Graph()
    for triple in result:
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    return SPARQLResult({"type_": "CONSTRUCT", "graph": graph})
