"""Saved-query headers, typed parameters and their binding — injection included.

Every parameter type (IRI, plain literal, language-tagged literal, integer, date, gYear) gets
the classic injection payloads. Each must either come back from the engine *exactly* as the
value it was (proved with echo queries that BIND the parameter into the result) or be refused
with a BadRequest naming the parameter; in no case may it change what the query does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from helpers import run_saved, service
from rdflib import Literal, URIRef

from caspian_kg.config import Config
from caspian_kg.errors import BadRequest, LoadError, NotFound
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.saved_queries import QueryLibrary, parse_query

PAYLOADS = [
    "'", '"', "}", ">", "\n", "a\nb", '"}', "\\", '\\"',
    "} UNION { ?s ?p ?o }",
    '" } UNION { ?s ?p ?o } #',
    "' } UNION { ?s ?p ?o } #",
    '"@en } UNION { ?s ?p ?o } #',
    '"""',
    "<http://x/> } UNION { ?s ?p ?o } #",
    "http://x/> } UNION { ?s ?p ?o } <http://y",
    "http://x/a b",
    "http://x/a>b",
    "http://x/{a}",
    "2020-01-01\" } UNION { ?s ?p ?o } #",
    "7 } UNION { ?s ?p ?o }",
    "1; DROP ALL",
]

ECHO = {
    "iri": "SELECT ?echo WHERE { BIND(STR(?_v_iri) AS ?echo) }",
    "literal": "SELECT ?echo WHERE { BIND(STR(?_v) AS ?echo) }",
    "lang": "SELECT ?echo ?lang WHERE { BIND(STR(?_v_en) AS ?echo) BIND(LANG(?_v_en) AS ?lang) }",
    "integer": "SELECT ?echo WHERE { BIND(STR(?_v_integer) AS ?echo) }",
    "date": "SELECT ?echo WHERE { BIND(STR(?_v_xsd_date) AS ?echo) }",
    "gyear": "SELECT ?echo WHERE { BIND(STR(?_v_xsd_gYear) AS ?echo) }",
}


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.rq"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> QueryLibrary:
    folder = tmp_path_factory.mktemp("echo")
    return QueryLibrary({f"echo-{k}": parse_query(write(folder, f"echo-{k}", q)) for k, q in ECHO.items()})


@pytest.fixture(scope="module")
def library(config: Config) -> QueryLibrary:
    return QueryLibrary.load(config)


def run(kg: KnowledgeGraph, library: QueryLibrary, query_name: str, **params: str) -> list[tuple]:
    query = library.get(query_name)
    return [tuple(row) for row in run_saved(kg, library, query, library.bind(service(kg, library), query, params))]  # type: ignore[arg-type]


# --- header and parameter conventions --------------------------------------------------------


def test_header_and_parameter_types(tmp_path: Path) -> None:
    query = parse_query(write(tmp_path, "typed", """#+ summary: S
#+ description: D
#+ tags:
#+   - t1
#+   - t2
#+ defaults:
#+   - a: http://example.org/a
#+ enumerate:
#+   - c:
#+     - x
#+     - y
SELECT * WHERE { ?_a_iri ?p ?__b_en . ?s ?p ?_c . FILTER(?n = ?__d_integer || ?n = ?__e_xsd_date || ?n = ?__f_gYearMonth) }
"""))
    assert (query.summary, query.description, query.tags) == ("S", "D", ("t1", "t2"))
    params = {p.name: p for p in query.parameters}
    assert params["a"].kind == "iri" and params["a"].required and params["a"].default == "http://example.org/a"
    assert not params["a"].api_required  # a default stands in for a missing value
    assert params["b"].kind == "lang" and params["b"].lang == "en" and not params["b"].required
    assert params["c"].kind == "literal" and params["c"].enum == ("x", "y") and params["c"].api_required
    assert params["d"].datatype == rdflib.XSD.integer
    assert params["e"].datatype == rdflib.XSD.date
    assert params["f"].datatype == rdflib.XSD.gYearMonth


@pytest.mark.parametrize("text, message", [
    ("#+ summary: [unclosed\nSELECT * WHERE { ?s ?p ?o }", "YAML"),
    ("#+ bogus: 1\nSELECT * WHERE { ?s ?p ?o }", "unknown decorator"),
    ("SELECT * WHERE { ?s ?p ?o ", "SPARQL syntax"),
    ("SELECT * WHERE { ?_a_iri ?p ?_a }", "declared twice"),
    ("SELECT * WHERE { ?s ?p ?_a_foo_bar }", "unsupported datatype"),
    ("SELECT * WHERE { ?s ?p ?_a_xsd_float }", "unsupported datatype"),
    ("SELECT * WHERE { ?s ?p ?_a_b_c_d }", "not a parameter name"),
    ("SELECT * WHERE { ?s ?p ?_format }", "reserved"),
    ("#+ defaults:\n#+   - nope: 1\nSELECT * WHERE { ?s ?p ?_a }", "names no parameter"),
    ("#+ defaults:\n#+   - a: not-a-date\nSELECT * WHERE { ?s ?p ?_a_xsd_date }", "not a valid xsd:date"),
])
def test_broken_query_files_fail_at_load(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LoadError, match=message) as info:
        parse_query(write(tmp_path, "broken", text))
    assert "broken.rq" in str(info.value)


def test_shipped_queries_parse_and_document_themselves(library: QueryLibrary) -> None:
    assert len(library) >= 20
    for query in library:
        assert query.summary != query.name and query.description, query.name
        assert query.query_type == "SELECT"


# --- binding -----------------------------------------------------------------------------------


def test_unknown_query_is_not_found(library: QueryLibrary) -> None:
    with pytest.raises(NotFound):
        library.get("no-such-query")


def test_unknown_parameter_is_refused_by_name(kg: KnowledgeGraph, library: QueryLibrary) -> None:
    with pytest.raises(BadRequest, match="unknown parameter 'organisation'"):
        run(kg, library, "org-members", organisation="orgn:cica")


def test_missing_required_parameter_is_refused(kg: KnowledgeGraph, library: QueryLibrary) -> None:
    with pytest.raises(BadRequest, match="missing required parameter 'name'"):
        run(kg, library, "lookup-label")


@pytest.mark.parametrize("name, params, param", [
    ("org-members", {"org": "not an iri"}, "org"),
    ("events-in-date-range", {"from": "2020-13-01"}, "from"),
    ("events-in-date-range", {"to": "yesterday"}, "to"),
    ("events-in-year", {"year": "20"}, "year"),
    ("summits", {"number": "seven"}, "number"),
    ("summits", {"number": "1e3"}, "number"),
    ("events-of-type", {"type": "https://w3id.org/caspian-kg/ontology#Event"}, "type"),  # not in its enum
    ("org-members", {"org": "https://w3id.org/caspian-kg/id/state/azerbaijan"}, "org"),  # not an organisation
])
def test_wrong_type_or_value_names_the_parameter(kg: KnowledgeGraph, library: QueryLibrary,
                                                 name: str, params: dict[str, str], param: str) -> None:
    with pytest.raises(BadRequest, match=f"parameter '{param}'"):
        run(kg, library, name, **params)


def test_prefixed_names_expand_and_match_full_iris(kg: KnowledgeGraph, library: QueryLibrary) -> None:
    full = run(kg, library, "org-observers", org="https://w3id.org/caspian-kg/id/org/cica")
    assert run(kg, library, "org-observers", org="orgn:cica") == full
    assert len(full) == 15


def test_enumeration_of_all_organisations(kg: KnowledgeGraph, library: QueryLibrary) -> None:
    query = library.get("org-members")
    values = library.enumeration(service(kg, library), query, query.parameter("org"))
    assert URIRef("https://w3id.org/caspian-kg/id/org/ots") in values  # no stated full members, still an org
    assert URIRef("https://w3id.org/caspian-kg/id/state/azerbaijan") not in values
    assert run(kg, library, "org-members", org="orgn:ots") == []


def test_optional_parameters_filter(kg: KnowledgeGraph, library: QueryLibrary) -> None:
    every = run(kg, library, "visits")
    to_azerbaijan = run(kg, library, "visits", host="state:azerbaijan")
    by_aliyev = run(kg, library, "visits", visitor="person:ilham-aliyev")
    visits = lambda rows: {str(r[0]).rsplit("/", 1)[1] for r in rows}
    # one row per host: Aliyev's visits to all five Central Asian states (2022-2023) are five rows
    assert len(every) == 10 and len(visits(every)) == 6
    assert visits(to_azerbaijan) == {"mirziyoyev-first-state-visit-azerbaijan", "central-asian-leaders-visits-azerbaijan",
                                     "tokayev-visit"}
    assert visits(by_aliyev) == {"aliyev-state-visit-kyrgyzstan", "aliyev-visits-central-asia",
                                 "aliyev-visits-all-central-asia-2022-2023"}
    assert run(kg, library, "visits", visitor="state:uzbekistan")[0][0].endswith("mirziyoyev-first-state-visit-azerbaijan")


def test_partial_dates_in_ranges(kg: KnowledgeGraph, library: QueryLibrary) -> None:
    names = lambda rows: {str(r[0]).rsplit("/", 1)[1] for r in rows}
    # a year overlaps any range that touches it; a month likewise; a day without a year never
    assert names(run(kg, library, "events-in-date-range", **{"from": "2020-12-01", "to": "2021-06-15"})) == {
        "patriotic-war-2020", "shusha-declaration-signing"}
    assert names(run(kg, library, "events-in-date-range", **{"from": "2021-07-01", "to": "2023-07-21"})) == set()
    assert "aliyev-state-visit-kyrgyzstan" not in names(
        run(kg, library, "events-in-date-range", **{"from": "0001-01-01", "to": "9999-12-31"}))
    assert names(run(kg, library, "events-in-year", year="2021")) == {"shusha-declaration-signing"}
    assert "aliyev-state-visit-kyrgyzstan" in names(run(kg, library, "undated-events"))


# --- injection -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ECHO))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_is_a_value_or_a_400(kg: KnowledgeGraph, echo: QueryLibrary, kind: str, payload: str) -> None:
    query = echo.get(f"echo-{kind}")
    param = query.parameters[0]
    try:
        bindings = echo.bind(service(kg, echo), query, {"v": payload})
    except BadRequest as exc:
        assert "parameter 'v'" in exc.message
        assert kind != "literal" and kind != "lang", "any text is a valid plain or tagged literal"
        return
    rows = [tuple(r) for r in run_saved(kg, echo, query, bindings)]  # type: ignore[arg-type]
    assert len(rows) == 1, "exactly one solution: the query was not extended"
    expected = payload.strip() if kind in ("iri", "integer", "date", "gyear") else payload
    assert str(rows[0][0]) == expected
    if kind == "lang":
        assert str(rows[0][1]) == "en"
    assert bindings[param.variable] == param.parse(payload)


@pytest.mark.parametrize("name, param", [
    ("find-by-name", "text"),
    ("lookup-label", "name"),
])
@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "UNION" in p])
def test_injection_into_shipped_text_queries_finds_nothing(kg: KnowledgeGraph, library: QueryLibrary,
                                                           name: str, param: str, payload: str) -> None:
    assert run(kg, library, name, **{param: payload}) == []


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("name, param", [
    ("org-members", "org"), ("inferred-about", "resource"), ("summits", "number"),
    ("events-in-date-range", "from"), ("events-in-year", "year"),
])
def test_injection_into_shipped_typed_queries(kg: KnowledgeGraph, library: QueryLibrary,
                                              name: str, param: str, payload: str) -> None:
    try:
        rows = run(kg, library, name, **{param: payload})
    except BadRequest as exc:
        assert f"parameter '{param}'" in exc.message
        return
    assert rows == [], f"{payload!r} was accepted for {name}.{param} and matched something"


def test_iri_with_quote_is_bound_verbatim(kg: KnowledgeGraph, library: QueryLibrary) -> None:
    query = library.get("inferred-about")
    bindings = library.bind(service(kg, library), query, {"resource": "http://x/'a'"})
    assert bindings["_resource_iri"] == URIRef("http://x/'a'")
    assert library.bind(service(kg, library), library.get("find-by-name"), {"text": "} UNION {"})["_text"] == Literal("} UNION {")
