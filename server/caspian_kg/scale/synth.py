"""Synthetic data at any size, in the project's own ontology, for benchmarks and scale tests.

`generate(root, triples)` writes a complete project directory — ontology/ and queries/ copied
from the real project, data/ with synthetic Turtle files and one synthetic source text — so that
every command works on it unchanged (`caspian-kg --root DIR validate|serve|bench`).

Why a source text: every membership, post, event and quotation must carry `ck:evidence` that is a
verbatim substring of its document's text file (the loader checks it). The generator writes
`data/sources/synthetic.txt` from a fixed list of sentences and only ever quotes those sentences,
so the data passes SHACL *and* the evidence check; benchmarks may still load with validation off
because SHACL on a million triples takes far longer than loading (that is the validator's cost,
not the store's).

Shape of the data (all deterministic for a given seed): states with capitals and regions
(ck:locatedIn chains, transitive), international organisations seated in a state, a president
post per state held by a person, memberships with roles (member / observer / chair) and start
years — never member and observer of one organisation, so the data is consistent — summits
organised by an organisation with participants, and quotations spoken at them. Files are split
in parts of about 100k triples, one named graph each (like one source document each).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..config import Config

PREFIXES = """\
@prefix ck: <https://w3id.org/caspian-kg/ontology#> .
@prefix state: <https://w3id.org/caspian-kg/id/state/> .
@prefix person: <https://w3id.org/caspian-kg/id/person/> .
@prefix orgn: <https://w3id.org/caspian-kg/id/org/> .
@prefix event: <https://w3id.org/caspian-kg/id/event/> .
@prefix place: <https://w3id.org/caspian-kg/id/place/> .
@prefix quote: <https://w3id.org/caspian-kg/id/quote/> .
@prefix doc: <https://w3id.org/caspian-kg/id/doc/> .
@prefix mship: <https://w3id.org/caspian-kg/id/membership/> .
@prefix post: <https://w3id.org/caspian-kg/id/post/> .
@prefix interval: <https://w3id.org/caspian-kg/id/interval/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

SENTENCES = [
    "The states agreed to deepen cooperation in transport and energy across the Caspian Sea.",
    "The member states of the organisation met at the summit and adopted a joint declaration.",
    "The observer delegation attended the meeting and welcomed the decisions of the members.",
    "The presidents discussed trade, logistics and the development of the Middle Corridor.",
    "The chairmanship passed to the next member state at the end of the session.",
    "We are brothers, and our unity is the guarantee of our future.",
    "Our countries are connected by history, culture and common values.",
    "The new railway and the seaport will bring our economies closer together.",
]
QUOTES = SENTENCES[5:]
ROLES = (("member", "memberRole", "memberIn"), ("observer", "observerRole", "observerIn"),
         ("chair", "chairRole", "chairIn"))
EVENT_CLASSES = ("Summit", "StateVisit", "Signing", "Speech")
PART_TRIPLES = 100_000


@dataclass(frozen=True)
class Plan:
    """How many of each kind of node make about `triples` triples (measured per kind below)."""

    states: int
    orgs: int
    memberships_per_state: int
    events: int

    @classmethod
    def for_size(cls, triples: int) -> Plan:
        # per state: 10 (state, region, capital) + 8 (post, person) = 18 triples
        # per membership: 8 node + 2 interval + 2 instant = 12; per event ~9.5 + half a quotation ~3.5
        states = max(8, triples // 900)
        orgs = max(4, states // 12)
        per_state = min(orgs, 30)
        base = states * 18 + orgs * 3 + states * per_state * 12
        events = max(4, (triples - base) // 13)
        while base > triples * 0.8 and per_state > 2:  # small sizes: fewer memberships, more events
            per_state -= 1
            base = states * 18 + orgs * 3 + states * per_state * 12
            events = max(4, (triples - base) // 13)
        return cls(states, orgs, per_state, events)


class _Writer:
    """Turtle parts of about PART_TRIPLES triples, each a named graph with its source document."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir, self.part, self.count, self.total = data_dir, -1, 0, 0
        self.out: IO[str] | None = None
        self._next()

    def _next(self) -> None:
        if self.out is not None:
            self.out.close()
        self.part += 1
        self.out = (self.data_dir / f"synthetic-{self.part:02d}.ttl").open("w", encoding="utf-8")
        self.out.write(PREFIXES)
        self.doc = f"doc:synthetic-{self.part:02d}"
        self.write(f'{self.doc} a ck:SourceDocument ; rdfs:label "Synthetic source, part {self.part}"@en ; '
                   f'ck:textFile "sources/synthetic.txt" .\n', 3)

    def write(self, text: str, triples: int) -> None:
        assert self.out is not None
        self.out.write(text)
        self.count += triples
        self.total += triples

    def boundary(self) -> None:
        """Between nodes: start a new part when this one is full."""
        if self.count >= PART_TRIPLES:
            self.count = 0
            self._next()

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


def generate(root: Path, triples: int, seed: int = 7, source_root: Path | None = None) -> int:
    """Write a project with about `triples` asserted data triples under `root` (replacing its
    data/). Returns the number of data triples written (the ontology comes on top)."""
    source_root = source_root or Config().root
    root = Path(root)
    for sub in ("ontology", "queries"):
        if (root / sub).exists():
            shutil.rmtree(root / sub)
        if (source_root / sub).is_dir():
            shutil.copytree(source_root / sub, root / sub)
    data = root / "data"
    if data.exists():
        shutil.rmtree(data)
    (data / "sources").mkdir(parents=True)
    (data / "sources" / "synthetic.txt").write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    rng = random.Random(seed)
    writer = _Writer(data)
    try:
        for text, count in _nodes(Plan.for_size(triples), rng, writer):
            writer.write(text, count)
            writer.boundary()
    finally:
        writer.close()
    return writer.total


def _evidence(writer: _Writer, rng: random.Random) -> str:
    return f'prov:wasDerivedFrom {writer.doc} ; ck:evidence "{rng.choice(SENTENCES[:5])}" '


def _nodes(plan: Plan, rng: random.Random, writer: _Writer) -> Iterator[tuple[str, int]]:
    """(Turtle text, triple count) per node, entities first."""
    for i in range(plan.states):
        yield (f'state:s{i} a ck:State ; rdfs:label "State {i}"@en ; skos:altLabel "Republic {i}"@en .\n'
               f'place:region-{i} a ck:Region ; rdfs:label "Region {i}"@en ; ck:locatedIn state:s{i} .\n'
               f'place:capital-{i} a ck:Settlement ; rdfs:label "Capital {i}"@en ; ck:locatedIn place:region-{i} ; '
               f'skos:altLabel "City {i}"@en .\n'), 10
        yield (f'post:president-{i} a org:Post ; rdfs:label "President of State {i}"@en ; ck:postIn state:s{i} ; '
               + _evidence(writer, rng) + ".\n"
               f'person:p{i} a foaf:Person ; rdfs:label "Person {i}"@en ; org:holds post:president-{i} .\n'
               ), 8
    for j in range(plan.orgs):
        yield (f'orgn:o{j} a ck:InternationalOrganization ; rdfs:label "Organisation {j}"@en ; '
               f'ck:headquarteredIn state:s{rng.randrange(plan.states)} .\n'), 3
    n = 0
    for i in range(plan.states):
        for j in rng.sample(range(plan.orgs), plan.memberships_per_state):
            label, role, link = ROLES[0] if rng.random() < 0.7 else ROLES[1] if rng.random() < 0.8 else ROLES[2]
            year = rng.randrange(1992, 2025)
            yield (f'mship:m{n} a org:Membership ; rdfs:label "State {i} {label} of Organisation {j}"@en ; '
                   f'org:member state:s{i} ; org:role ck:{role} ; ck:{link} orgn:o{j} ; '
                   f'org:memberDuring interval:m{n} ; ' + _evidence(writer, rng) + ".\n"
                   f'interval:m{n} a time:Interval ; time:hasBeginning interval:m{n}-start .\n'
                   f'interval:m{n}-start a time:Instant ; time:inXSDgYear "{year}"^^xsd:gYear .\n'), 12
            n += 1
    for k in range(plan.events):
        cls = EVENT_CLASSES[k % len(EVENT_CLASSES)]
        host = rng.randrange(plan.states)
        guests = {rng.randrange(plan.states) for _ in range(2)} - {host}
        date = f"{rng.randrange(1995, 2025)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        participants = ", ".join(f"person:p{g}" for g in sorted(guests)) or f"person:p{host}"
        yield (f'event:e{k} a ck:{cls} ; rdfs:label "{cls} {k}"@en ; ck:date "{date}"^^xsd:date ; '
               f'ck:place place:capital-{host} ; ck:host state:s{host} ; ck:hasParticipant {participants} ; '
               f'ck:organizedBy orgn:o{rng.randrange(plan.orgs)} ; ' + _evidence(writer, rng) + ".\n",
               8 + max(1, len(guests)))
        if k % 2 == 0:
            speaker = next(iter(guests), host)
            yield (f'quote:q{k} a ck:Quotation ; rdfs:label "Quotation {k}"@en ; ck:speaker person:p{speaker} ; '
                   f'ck:text "{rng.choice(QUOTES)}" ; ck:occasion event:e{k} ; '
                   + _evidence(writer, rng) + ".\n"), 7
