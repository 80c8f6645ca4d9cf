"""Namespaces: rdflib's own for the W3C vocabularies, and one object for the project's terms.

The project's ontology namespace moves with the base IRI (`Config.base`, for publishing under
another domain), so code that may run on a rebased graph asks `ck(base)`; `CK` is the default.
"""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SH, SKOS, TIME, VOID, XSD

from .config import DEFAULT_BASE

# not among rdflib's namespaces
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

__all__ = ["CK", "DCAT", "DCTERMS", "FOAF", "FORMATS", "ORG", "OWL", "PROV", "RDF", "RDFS", "SD", "SH", "SKOS",
           "TIME", "VOID", "XSD", "ck"]


def ck(base: str = DEFAULT_BASE) -> Namespace:
    """The ontology namespace under `base`: `{base}ontology#`."""
    return Namespace(f"{base}ontology#")


CK = ck()
