"""The app with the linked-data blueprint, and the subjects of the shipped data, for ld tests."""

from __future__ import annotations

from flask import Flask
from rdflib import URIRef

from caspian_kg.app import create_app
from caspian_kg.config import DEFAULT_BASE, Config
from caspian_kg.store import KnowledgeGraph, data_files, parse_turtle

RDF_EXTENSIONS = {"text/turtle": "ttl", "application/ld+json": "jsonld", "application/n-triples": "nt",
                  "application/rdf+xml": "rdf"}
PARSERS = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdf": "xml", "trig": "trig", "nq": "nquads"}


def make_app(config: Config, kg: KnowledgeGraph) -> Flask:
    app = create_app(config, kg)
    if "linked_data" not in app.blueprints:  # until app.py registers it
        from caspian_kg.linked_data import bp

        app.register_blueprint(bp)
    app.testing = True
    return app


def data_subjects() -> list[str]:
    """Every subject IRI under the base in the shipped files (read at collection time, so the
    tests can be parametrised over them)."""
    subjects: set[str] = set()
    for _, path in data_files(Config()):
        subjects |= {str(s) for s in parse_turtle(path).subjects() if isinstance(s, URIRef)}
    return sorted(s for s in subjects if s.startswith(DEFAULT_BASE))
