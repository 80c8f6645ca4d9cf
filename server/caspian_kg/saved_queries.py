"""Saved queries: `queries/<name>.rq` files with a grlc header and typed `?_name` parameters.

The folder follows grlc's conventions so that it also works as a grlc API:

* the header is YAML in `#+ ` comment lines (`summary`, `description`, `tags`, `defaults`,
  `enumerate`; other grlc decorators are kept but ignored);
* a variable `?_name` is a required parameter `name`, `?__name` an optional one, and a suffix
  gives its type: `_iri`, a two-letter language tag (`_en`), an XSD datatype (`_integer`,
  `_date`), or `_xsd_<datatype>`; without a suffix the value is a plain literal.

Unlike grlc, a value is never pasted into the query text. It is parsed as the declared type
into an RDF term (a bad value is refused with `BadRequest` naming the parameter) and handed to
the engine as an initial binding of the variable, so a quote, a `}` or a whole SPARQL fragment in
a value can only ever be that value. Enumerations (`#+ enumerate: - org`) are computed from the
data: the distinct values the variable takes when the query's pattern is matched with the
parameter left open.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml
from rdflib import XSD, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Identifier

from .config import DEFAULT_BASE, Config
from .enumeration import ABSOLUTE_IRI, compute_enumeration
from .errors import BadRequest, LoadError, NotFound, one_line
from .query import QueryService, scan, uses_service

NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
# request parameters the web layer reads itself (the result format), so no query may declare them
RESERVED = frozenset({"format", "inference"})  # the web layer's own: result format, closure or not
# a prefixed name in an IRI parameter: expanded with the query's own PREFIX declarations
CURIE = re.compile(r"(?P<prefix>[A-Za-z][A-Za-z0-9_.-]*)?:(?P<local>(?!//)[^\s<>\"{}|^`\\]*)")
# grlc/BASIL: ?_name, ?__name, then an optional type and an optional user-defined datatype
PARAMETER = re.compile(r"(?P<marker>_{1,2})(?P<name>[A-Za-z0-9]+)(?:_(?P<type>[A-Za-z0-9]+))?(?:_(?P<ud>[A-Za-z0-9]+))?")
GRLC_PLAIN_TYPES = {"literal", "string"}
# a language tag as BCP 47 allows it in a variable name (letters only, no subtags)
LANGUAGE = re.compile(r"[a-z]{2}")


def _check_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_decimal(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


# The XSD datatypes a parameter may declare, with a check of the lexical form. Kept to the ones
# a reader of this graph needs; an .rq file declaring another one fails at load, not at run.
LEXICAL: dict[str, tuple[re.Pattern[str], Any]] = {
    "integer": (re.compile(r"[+-]?[0-9]{1,18}"), None),
    "decimal": (re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"), _check_decimal),
    "boolean": (re.compile(r"true|false|1|0"), None),
    "date": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), _check_date),
    "gYear": (re.compile(r"[0-9]{4}"), None),
    "gYearMonth": (re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])"), None),
    "gMonthDay": (re.compile(r"--(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"), None),
    "string": (re.compile(r".*", re.DOTALL), None),
}
# the header keys this implementation reads (grlc's others are tolerated)
KNOWN_DECORATORS = {"summary", "description", "tags", "defaults", "enumerate", "endpoint", "method",
                    "pagination", "endpoint_in_url", "transform"}


@dataclass(frozen=True)
class Parameter:
    """One typed parameter of a saved query.

    `kind` is "iri", "literal" (plain), "lang" (language-tagged, `lang`) or "typed"
    (`datatype`). `enum` holds values listed in the header; `from_data` says the header asks
    for the values to be computed from the graph (`QueryLibrary.enumeration`).
    """

    name: str
    variable: str  # SPARQL variable name, without '?'
    kind: str
    required: bool
    datatype: URIRef | None = None
    lang: str | None = None
    default: str | None = None
    enum: tuple[str, ...] = ()
    from_data: bool = False

    @property
    def api_required(self) -> bool:
        """Whether a request must give it: a default stands in for a missing value (as grlc's
        defaults prefill its forms), so only a required parameter without one is mandatory."""
        return self.required and self.default is None

    @property
    def type_label(self) -> str:
        """Human-readable type, for forms, docs and error messages."""
        if self.kind == "iri":
            return "IRI"
        if self.kind == "lang":
            return f"text (@{self.lang})"
        if self.kind == "typed" and self.datatype is not None:
            return "xsd:" + self.datatype[len(str(XSD)):]
        return "text"

    def parse(self, raw: str) -> Identifier:
        """The RDF term for a request value, or BadRequest naming this parameter."""
        if self.kind == "iri":
            value = raw.strip()
            if not ABSOLUTE_IRI.fullmatch(value):
                raise BadRequest(f"parameter {self.name!r}: {_show(raw)} is not an absolute IRI "
                                 "(no spaces or <>\"{}|^`\\ characters)")
            return URIRef(value)
        if self.kind == "lang":
            return Literal(raw, lang=self.lang)
        if self.kind == "typed":
            assert self.datatype is not None
            local = self.datatype[len(str(XSD)):]
            pattern, check = LEXICAL[local]
            value = raw.strip() if local != "string" else raw
            if not pattern.fullmatch(value) or (check is not None and not check(value)):
                raise BadRequest(f"parameter {self.name!r}: {_show(raw)} is not a valid {self.type_label}")
            return Literal(value, datatype=self.datatype)
        return Literal(raw)


def _show(raw: str, limit: int = 60) -> str:
    text = raw if len(raw) <= limit else raw[: limit - 1] + "…"
    return repr(text)


@dataclass(frozen=True)
class SavedQuery:
    """A parsed .rq file. `sparql` is the query without its header (what the engine runs)."""

    name: str
    path: Path
    text: str
    sparql: str
    summary: str
    description: str
    tags: tuple[str, ...]
    query_type: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    parameters: tuple[Parameter, ...]
    parsed: Query | None = field(default=None, repr=False, compare=False)  # rdflib's, when parsed at load

    @functools.cached_property
    def prepared(self) -> Query:
        """rdflib's parsed query: parsed at load for a store that evaluates rdflib's algebra, else on
        first use (an enumeration, a page that reads the prologue). Oxigraph checked it at load."""
        return self.parsed if self.parsed is not None else _rdflib_parse(self.sparql, str(self.path))

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise BadRequest(f"unknown parameter {name!r} for query {self.name!r}; "
                         f"it takes {', '.join(p.name for p in self.parameters) or 'no parameters'}")


def split_header(text: str) -> tuple[str, str]:
    """(YAML of the `#+` lines, the rest) — grlc's reading of a decorated query."""
    header = [line[2:] for line in text.splitlines() if line.startswith("#+")]
    body = [line for line in text.splitlines() if not line.startswith("#+")]
    return "\n".join(header), "\n".join(body).strip() + "\n"


# strings, IRIs and comments (skipped) or a variable (kept), for `variables()`
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r'|<[^<>"{}|^`\\\x00-\x20]*>|#[^\n]*'
    r'|[?$](?P<var>[A-Za-z0-9_]+)'
)


def variables(sparql: str) -> set[str]:
    """Every variable name in a query's text (rdflib's algebra misses some inside FILTERs)."""
    return {m.group("var") for m in _TOKENS.finditer(sparql) if m.group("var")}


def _type_of(match: re.Match[str], where: str) -> tuple[str, URIRef | None, str | None]:
    """(kind, datatype, lang) from a parameter variable's suffixes, grlc's way."""
    mtype, ud = match.group("type"), match.group("ud")
    if mtype is None or mtype in GRLC_PLAIN_TYPES:
        return "literal", None, None
    if mtype == "iri":
        return "iri", None, None
    if ud is not None:  # ?_name_prefix_datatype: only xsd is supported
        if mtype != "xsd" or ud not in LEXICAL:
            raise LoadError(where, None, f"?{match.group(0)}: unsupported datatype {mtype}:{ud} "
                                         f"(use xsd: one of {', '.join(LEXICAL)})")
        return "typed", XSD[ud], None
    if mtype in LEXICAL:
        return "typed", XSD[mtype], None
    if mtype == "number":
        return "typed", XSD.decimal, None
    if LANGUAGE.fullmatch(mtype):
        return "lang", None, mtype
    raise LoadError(where, None, f"?{match.group(0)}: unknown parameter type {mtype!r}")


def _as_list(value: Any, key: str, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LoadError(where, None, f"#+ {key}: expected a YAML list")
    return value


def _entries(value: Any, key: str, where: str) -> dict[str, Any]:
    """grlc writes `defaults` / `enumerate` as a list of one-key maps (or bare names)."""
    out: dict[str, Any] = {}
    for item in _as_list(value, key, where):
        if isinstance(item, str):
            out[item] = None
        elif isinstance(item, dict):
            out.update({str(k): v for k, v in item.items()})
        else:
            raise LoadError(where, None, f"#+ {key}: unexpected entry {item!r}")
    return out


def _plain_name(key: str) -> str:
    """`enumerate`/`defaults` keys are plain names (`org`); accept a full variable too."""
    match = PARAMETER.fullmatch(key.lstrip("?"))
    return match.group("name") if match else key


def parse_query(path: Path, base: str = DEFAULT_BASE, eager: bool = True) -> SavedQuery:
    """Read one .rq file; any problem is a LoadError naming the file (a broken saved query is
    the operator's fault and must stop the server at start, not a user's request later)."""
    where = str(path)
    name = path.stem
    if not NAME.fullmatch(name):
        raise LoadError(where, None, "query file names are lowercase letters, digits and hyphens")
    text = path.read_text(encoding="utf-8")
    if base != DEFAULT_BASE:  # publishing under another domain: the data was rebased, so are we
        text = text.replace(DEFAULT_BASE, base)
    header_yaml, sparql = split_header(text)
    try:
        meta = yaml.safe_load(header_yaml) or {}
    except yaml.YAMLError as exc:
        raise LoadError(where, None, f"header is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(meta, dict):
        raise LoadError(where, None, "header must be YAML key: value lines")
    unknown = set(meta) - KNOWN_DECORATORS
    if unknown:
        raise LoadError(where, None, f"unknown decorator(s): {', '.join(sorted(map(str, unknown)))}")
    keywords, _ = scan(sparql)
    if eager or keywords:  # a rule is about one of its keywords (SERVICE...): rdflib's algebra decides
        parsed = _rdflib_parse(sparql, where)
        prepared: Query | None = parsed
        query_type = parsed.algebra.name.replace("Query", "").upper()
    else:  # Oxigraph's parser checks it in microseconds; rdflib's (20-30 ms a query) waits for a use
        prepared, query_type = None, _checked_natively(sparql, where)

    defaults = {_plain_name(k): v for k, v in _entries(meta.get("defaults"), "defaults", where).items()}
    enumerate_ = {_plain_name(k): v for k, v in _entries(meta.get("enumerate"), "enumerate", where).items()}
    parameters: dict[str, Parameter] = {}
    for var in sorted(variables(sparql)):
        match = PARAMETER.fullmatch(var)
        if not match:
            if var.startswith("_"):
                raise LoadError(where, None, f"?{var} is not a parameter name grlc understands "
                                             "(?_name, ?__name, ?_name_type, ?_name_xsd_type)")
            continue
        pname = match.group("name")
        if pname in RESERVED:
            raise LoadError(where, None, f"?{var}: {pname!r} is reserved (the web layer's own "
                                         f"parameters are {', '.join(sorted(RESERVED))})")
        if pname in parameters:
            raise LoadError(where, None, f"parameter {pname!r} is declared twice (?{parameters[pname].variable}, ?{var})")
        kind, datatype, lang = _type_of(match, where)
        default = defaults.pop(pname, None)
        values = enumerate_.pop(pname, None) if pname in enumerate_ else ()
        param = Parameter(
            name=pname, variable=var, kind=kind, required=match.group("marker") == "_",
            datatype=datatype, lang=lang,
            default=None if default is None else str(default),
            enum=tuple(str(v) for v in _as_list(values, "enumerate", where)) if values else (),
            from_data=values is None,
        )
        for value in ([param.default] if param.default is not None else []) + list(param.enum):
            try:
                param.parse(value)
            except BadRequest as exc:
                raise LoadError(where, None, f"header: {exc.message}") from None
        parameters[pname] = param
    for key, leftover in (("defaults", defaults), ("enumerate", enumerate_)):
        if leftover:
            raise LoadError(where, None, f"#+ {key} names no parameter of the query: {', '.join(leftover)}")
    return SavedQuery(
        name=name, path=path, text=text, sparql=sparql,
        summary=str(meta.get("summary") or name).strip(),
        description=str(meta.get("description") or "").strip(),
        tags=tuple(str(t) for t in _as_list(meta.get("tags"), "tags", where)),
        query_type=query_type, parameters=tuple(parameters.values()), parsed=prepared,
    )


def _rdflib_parse(sparql: str, where: str) -> Query:
    try:
        prepared = prepareQuery(sparql)
    except Exception as exc:  # noqa: BLE001 - pyparsing and rdflib raise many types; all are bad input
        raise LoadError(where, None, f"SPARQL syntax error: {' '.join(str(exc).split())}") from None
    if uses_service(prepared.algebra):  # the query service's rule holds for saved queries too
        raise LoadError(where, None, "SERVICE (federated query) is not allowed")
    return prepared


_EMPTY = ox.Store()  # in memory, never written: a query evaluated on it is a parse and nothing else
_FORM = re.compile(r"\b(SELECT|CONSTRUCT|DESCRIBE|ASK)\b", re.IGNORECASE)
_NOT_CODE = re.compile(r"#[^\n]*|<[^>\s]*>|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")


def _checked_natively(sparql: str, where: str) -> str:
    """The query form, after Oxigraph's parser accepted the text (a LoadError when it does not)."""
    try:
        result = _EMPTY.query(sparql)
    except SyntaxError as exc:
        raise LoadError(where, None, f"SPARQL syntax error: {one_line(str(exc))}") from None
    if isinstance(result, ox.QuerySolutions):
        return "SELECT"
    if isinstance(result, ox.QueryBoolean):
        return "ASK"
    form = _FORM.search(_NOT_CODE.sub(" ", sparql))
    return form.group(1).upper() if form and form.group(1).upper() in ("CONSTRUCT", "DESCRIBE") else "CONSTRUCT"


class QueryLibrary:
    """Every saved query of a project, by name, and the enumerations computed from a graph.

    A class because it holds a cache: enumerations are computed once per graph version.
    """

    def __init__(self, queries: Mapping[str, SavedQuery]) -> None:
        self.queries = dict(sorted(queries.items()))
        self._enums: dict[tuple[str, str, str], tuple[Identifier, ...]] = {}

    @classmethod
    def load(cls, config: Config, eager: bool = True) -> QueryLibrary:
        """Every .rq file, checked. `eager=False` (a store with its own engine): rdflib's parse of
        each query waits for its first use, which takes 0.7 s off every start."""
        paths = sorted(config.queries_dir.glob("*.rq")) if config.queries_dir.is_dir() else []
        return cls({p.stem: parse_query(p, config.base, eager) for p in paths})

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    def get(self, name: str) -> SavedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise NotFound(f"no saved query named {name!r}; GET /queries lists them") from None

    def enumeration(self, service: QueryService, query: SavedQuery, param: Parameter) -> tuple[Identifier, ...]:
        """The values a parameter may take: listed in the header, computed from the data, or
        none (any value of its type)."""
        if param.enum:
            return tuple(param.parse(v) for v in param.enum)
        if not param.from_data:
            return ()
        key = (service.kg.version, query.name, param.name)
        if key not in self._enums:
            self._enums[key] = compute_enumeration(service, query.prepared, param.variable)
        return self._enums[key]

    def bind(self, service: QueryService, query: SavedQuery, args: Mapping[str, str],
             form: bool = False) -> dict[str, Identifier]:
        """Request values → initial bindings {variable: term}. Unknown names, bad values, values
        outside an enumeration, missing required parameters and (but from an HTML form, whose
        untouched fields are empty) empty values are BadRequest."""
        check_names(query, args)
        bindings: dict[str, Identifier] = {}
        for param in query.parameters:
            raw = args.get(param.name)
            if raw == "" and not form:
                raise BadRequest(f"parameter {param.name!r} is empty; leave it out to use "
                                 + (f"its default {param.default!r}" if param.default is not None else "no value"))
            if raw is None or raw == "":
                raw = param.default
            if raw is None:
                if param.required:
                    raise BadRequest(f"missing required parameter {param.name!r} ({param.type_label}) "
                                     f"of query {query.name!r}")
                continue
            if param.kind == "iri":
                raw = expand_curie(raw, query, service.kg.prefixes())
            term = param.parse(raw)
            allowed = self.enumeration(service, query, param)
            if allowed and term not in allowed:
                raise BadRequest(f"parameter {param.name!r}: {_show(raw)} is not one of its "
                                 f"{len(allowed)} allowed values (see /openapi.json)")
            bindings[param.variable] = term
        return bindings


def check_names(query: SavedQuery, args: Mapping[str, str]) -> None:
    """Unknown or missing parameters (BadRequest), checked without a graph: the CLI calls this
    before spending seconds on loading."""
    for name in args:
        query.parameter(name)
    for param in query.parameters:
        if param.required and param.default is None and not args.get(param.name):
            raise BadRequest(f"missing required parameter {param.name!r} ({param.type_label}) "
                             f"of query {query.name!r}")


def expand_curie(value: str, query: SavedQuery, prefixes: Mapping[str, str]) -> str:
    """`state:azerbaijan` → the full IRI when `state:` is a prefix of the data or of the query;
    anything else is returned as given (and then must be an absolute IRI)."""
    match = CURIE.fullmatch(value.strip())
    if not match:
        return value
    prefixes = {**prefixes, **dict(query.prepared.prologue.namespace_manager.namespaces())}
    namespace = prefixes.get(match.group("prefix") or "")
    return str(namespace) + match.group("local") if namespace is not None else value
