"""The subjects of the shipped data and the RDF formats, for the linked-data tests."""

from __future__ import annotations

from rdflib import URIRef

from caspian_kg.config import DEFAULT_BASE, Config
from caspian_kg.graph import data_files, parse_turtle

RDF_EXTENSIONS = {"text/turtle": "ttl", "application/ld+json": "jsonld", "application/n-triples": "nt",
                  "application/rdf+xml": "rdf"}
PARSERS = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdf": "xml", "trig": "trig", "nq": "nquads"}


def data_subjects() -> list[str]:
    """Every subject IRI under the base in the shipped files (read at collection time, so the
    tests can be parametrised over them)."""
    subjects: set[str] = set()
    for _, path in data_files(Config()):
        subjects |= {str(s) for s in parse_turtle(path).subjects() if isinstance(s, URIRef)}
    return sorted(s for s in subjects if s.startswith(DEFAULT_BASE))
