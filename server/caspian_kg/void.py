"""The dataset description: VoID with DCAT, statistics per named graph as void:subset.

Served at /.well-known/void (RFC 5785 + VoID §7.2). IRIs are canonical (under `kg.base`), like the
data itself; the server maps them onto its own URL space. The SPARQL service description links
here from its sd:Dataset.
"""

from __future__ import annotations

import datetime
import time

from rdflib import BNode, Graph, Literal, URIRef

from . import stats
from .dumps import DUMP_FORMATS, LICENSE_URL
from .graph import KnowledgeGraph
from .vocab import DCAT, DCTERMS, FOAF, RDF, RDFS, SD, VOID, XSD

VOCABULARIES = ("http://www.w3.org/ns/org#", "http://www.w3.org/ns/prov#", "http://www.w3.org/2006/time#",
                "http://xmlns.com/foaf/0.1/", "http://www.w3.org/2004/02/skos/core#", "https://schema.org/",
                "http://purl.org/dc/terms/")
PARTITION_QUERY = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } FILTER(isIRI(?class)) }
GROUP BY ?class ORDER BY ?class
"""


# the data (its structure, identifiers and the closure) is CC BY 4.0; the verbatim passages it
# quotes remain the cited articles' (quotations, with their source on every node)
LICENSE = URIRef(LICENSE_URL)
RIGHTS = ("Data: CC BY 4.0, caspian-kg. Verbatim evidence passages are quotations from the cited source "
          "articles, which keep their own rights; each carries its source document.")


def modified(kg: KnowledgeGraph) -> str:
    """When the newest input file changed (on this server's disk), as an xsd:date."""
    stamps = [p.stat().st_mtime for p in kg.files.values() if p.is_file()]
    return datetime.datetime.fromtimestamp(max(stamps) if stamps else time.time(), datetime.UTC).date().isoformat()


def dataset_iri(base: str) -> URIRef:
    """The dataset's IRI: a hash IRI in the VoID document, so dereferencing it gives the VoID."""
    return URIRef(f"{base}void#dataset")


def dump_url(base: str, extension: str, graph: str | None = None) -> URIRef:
    return URIRef(f"{base}export/caspian-kg.{extension}" + (f"?graph={graph}" if graph else ""))


def describe_dataset(kg: KnowledgeGraph) -> Graph:
    """VoID + DCAT for the whole graph (closure included) and each named graph."""
    g = Graph()
    for prefix, ns in (("void", VOID), ("dcat", DCAT), ("dcterms", DCTERMS), ("foaf", FOAF), ("sd", SD)):
        g.bind(prefix, ns)
    base, ds = kg.base, dataset_iri(kg.base)
    doc = URIRef(f"{base}void")
    g.add((doc, RDF.type, VOID.DatasetDescription))
    g.add((doc, DCTERMS.title, Literal("VoID description of caspian-kg", lang="en")))
    g.add((doc, FOAF.primaryTopic, ds))

    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, RDF.type, SD.Dataset))
    g.add((ds, DCTERMS.title, Literal("caspian-kg", lang="en")))
    g.add((ds, DCTERMS.description, Literal(
        "Azerbaijan's relations with Central Asia and the Turkic world: states, persons, organisations, "
        "memberships with roles and time, events, quotations, each with its verbatim source evidence; "
        "plus the OWL 2 RL closure in its own named graph.", lang="en")))
    g.add((ds, DCTERMS.hasVersion, Literal(kg.version)))
    g.add((ds, VOID.uriSpace, Literal(f"{base}id/")))
    g.add((ds, VOID.sparqlEndpoint, URIRef(f"{base}sparql")))
    g.add((ds, VOID.rootResource, URIRef(f"{base}id/state/azerbaijan")))
    g.add((ds, VOID.vocabulary, URIRef(f"{base}ontology")))
    for vocabulary in VOCABULARIES:
        g.add((ds, VOID.vocabulary, URIRef(vocabulary)))
    g.add((ds, DCTERMS.license, LICENSE))
    g.add((ds, DCTERMS.rights, Literal(RIGHTS, lang="en")))
    g.add((ds, DCTERMS.modified, Literal(modified(kg), datatype=XSD.date)))
    g.add((ds, DCAT.landingPage, URIRef(base)))
    per_graph = stats.compute(kg)["triples"]["per_graph"]  # the same figures as `caspian-kg stats`
    # the dataset counts distinct triples (as /health and COUNT(*) over the union do); each named
    # graph counts its own, so a triple stated in two files counts once here and once in each graph
    _statistics(g, ds, kg, None, len(kg.dataset))
    service = URIRef(f"{base}void#sparql-service")
    g.add((ds, DCAT.distribution, URIRef(f"{base}void#sparql")))
    g.add((URIRef(f"{base}void#sparql"), RDF.type, DCAT.Distribution))
    g.add((URIRef(f"{base}void#sparql"), DCAT.accessURL, URIRef(f"{base}sparql")))
    g.add((URIRef(f"{base}void#sparql"), DCAT.accessService, service))
    g.add((URIRef(f"{base}void#sparql"), DCTERMS.license, LICENSE))
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCAT.endpointURL, URIRef(f"{base}sparql")))
    g.add((service, DCAT.servesDataset, ds))
    g.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    for spec in DUMP_FORMATS.values():
        url = dump_url(base, spec.extension)
        g.add((ds, VOID.dataDump, url))
        dist = URIRef(f"{base}void#dump-{spec.extension}")
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCTERMS.license, LICENSE))
        g.add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{spec.media_type}")))
        g.add((dist, DCTERMS.format, Literal(spec.media_type)))
        g.add((dist, RDFS.comment, Literal(
            "named graphs kept" if spec.quads else "union of all named graphs", lang="en")))

    for name, iri in sorted(kg.graphs.items()):
        g.add((ds, VOID.subset, iri))
        g.add((iri, RDF.type, VOID.Dataset))
        g.add((iri, DCTERMS.title, Literal(f"named graph {name}", lang="en")))
        g.add((iri, VOID.dataDump, dump_url(base, "ttl", name)))
        source = kg.files.get(iri)
        if name.startswith("source/"):
            g.add((iri, DCTERMS.source, URIRef(f"{base}id/doc/{name.split('/', 1)[1]}")))
        if name == "links":
            g.add((iri, DCTERMS.description, Literal(
                "Outbound links: ISO 3166-1 codes (wdt:P297, wdt:P298), GeoNames and Wikidata ids (skos:exactMatch) "
                "of the states and places, read from offline sources. Leave this graph out of a query's dataset "
                "(FROM, default-graph-uri) to switch the links off.", lang="en")))
            g.add((iri, DCTERMS.source, URIRef(f"{base}id/doc/links")))
        if source is not None:
            g.add((iri, RDFS.comment, Literal(f"loaded from {source.name}", lang="en")))
        _statistics(g, iri, kg, iri, per_graph[name])
    return g


def _statistics(g: Graph, node: URIRef, kg: KnowledgeGraph, graph: URIRef | None, n_triples: int) -> None:
    """void:triples/entities/classes/properties/distinct*, and class partitions for the whole set."""
    source = kg.dataset.get_context(graph) if graph is not None else kg.dataset
    triples = list(source.triples((None, None, None)))
    uri_space = f"{kg.base}id/"
    entities = {s for s, _, _ in triples if isinstance(s, URIRef) and s.startswith(uri_space)}
    figures = {
        VOID.triples: n_triples,  # quads: a triple asserted in two source graphs counts twice
        VOID.entities: len(entities),
        VOID.classes: len({o for _, p, o in triples if p == RDF.type}),
        VOID.properties: len({p for _, p, _ in triples}),
        VOID.distinctSubjects: len({s for s, _, _ in triples}),
        VOID.distinctObjects: len({o for _, _, o in triples}),
    }
    for predicate, value in figures.items():
        g.add((node, predicate, Literal(value, datatype=XSD.integer)))
    if graph is None:
        for row in kg.dataset.query(PARTITION_QUERY):
            partition = BNode()
            g.add((node, VOID.classPartition, partition))
            g.add((partition, VOID["class"], row[0]))  # type: ignore[index]
            g.add((partition, VOID.entities, Literal(int(row[1]), datatype=XSD.integer)))  # type: ignore[index,arg-type]

