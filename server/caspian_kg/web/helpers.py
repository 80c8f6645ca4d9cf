"""What every view needs: the one reader of each shared request parameter (`inference`,
`format`), conditional responses, and the results table that pages draw from SPARQL JSON."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Response, current_app, render_template, request
from rdflib import URIRef
from werkzeug.datastructures import MultiDict

from ..errors import BadRequest
from ..formats import ALL_FORMATS, HTML, Format, negotiate, unavailable
from ..graph import KnowledgeGraph
from ..query import Answer, QueryRequest, read_inference
from ..vocab import RDF
from .resource_page import View
from .state import current


def strict_utf8() -> None:
    """Before every request: the URL's parameters and a form body must be UTF-8 once
    percent-decoded. Werkzeug keeps an invalid sequence (`%FF%FE`) as its literal text, which
    would then be taken as the query; a direct POST of the same bytes is already a 400."""
    raws = [request.query_string]
    if request.mimetype == "application/x-www-form-urlencoded":
        raws.append(request.get_data(cache=True))
    for raw in raws:
        if b"%" not in raw and raw.isascii():  # nothing to decode: the common case, per request
            continue
        try:
            unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"the request's parameters are not valid UTF-8 once percent-decoded "
                             f"(byte 0x{exc.object[exc.start]:02X})") from None


def known_formats() -> None:
    """Before every request: a `format=` that names no format we write is a 406 on every route,
    also where the path's extension decides (e.g. /id/x.ttl), so a typo never passes silently."""
    for value in request.args.getlist("format"):
        if not any(f.matches(value) for f in ALL_FORMATS):
            raise unavailable(value, ALL_FORMATS)


def single(params: MultiDict[str, str], name: str) -> str | None:
    """One value of a parameter, or None; a repeated parameter is a 400."""
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"parameter {name!r} given {len(values)} times")
    return values[0] if values else None


def inference(params: MultiDict[str, str] | None = None) -> bool:
    """`?inference=`: `rl` (the default) or `none` (query.read_inference), on every route."""
    return read_inference(single(request.args if params is None else params, "inference"))


def formats(params: MultiDict[str, str] | None = None) -> tuple[str, ...]:
    """`?format=` values, alternatives in order (SPARQLWrapper sends two). Values that name no format
    at all (empty ones too) were refused before the view ran (`known_formats`)."""
    return tuple((request.args if params is None else params).getlist("format"))


def choose(offered: tuple[Format, ...], params: MultiDict[str, str] | None = None) -> Format:
    """The format of a response: `format=` when given (406 when it is none of `offered`), else
    the best match for Accept."""
    return negotiate(request.headers.get("Accept"), offered, formats(params))


def conditional(body: Callable[[], bytes | Iterable[bytes]], fmt: Format, variant: str, **headers: str) -> Response:
    """A 200 with an ETag of dataset version + variant, or a 304 when If-None-Match matches
    (checked before the body is built: nothing is serialised for a revalidation)."""
    etag = f"{current().kg.version}-{variant}"
    # a compressed copy carries the same ETag plus ":<encoding>" (Flask-Compress, see create_app)
    encodings = {*current_app.config.get("COMPRESS_ALGORITHM", ()),
                 *current_app.config.get("COMPRESS_ALGORITHM_STREAMING", ())}
    if any(request.if_none_match.contains(tag) for tag in [etag, *(f"{etag}:{e}" for e in encodings)]):
        response = Response(status=304)
    else:
        response = Response(body(), content_type=fmt.content_type)
    response.set_etag(etag)
    response.headers.update(headers)
    return response


def short(kg: KnowledgeGraph, term: Any) -> str:
    """A prefixed name when the data's prefixes allow one, else the full IRI or the literal."""
    if isinstance(term, URIRef):
        try:
            return kg.dataset.namespace_manager.normalizeUri(term).strip("<>")
        except Exception:  # noqa: BLE001 - odd IRIs just print in full
            return str(term)
    return str(term)


def results_table(kg: KnowledgeGraph, body: bytes) -> dict[str, Any]:
    """A SPARQL JSON answer → what the pages' results tables show: IRIs under the base link to
    their local pages (with the resource's label), others stay as they are."""
    data = json.loads(body)
    if "boolean" in data:
        return {"boolean": bool(data["boolean"])}
    view = View(kg, kg.dataset)
    variables = data["head"]["vars"]

    def cell(value: dict[str, str] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if value["type"] == "uri":
            iri = URIRef(value["value"])
            label = view.label(iri)
            text = short(kg, iri)
            return {"iri": str(iri), "href": view.href(str(iri)), "text": text,
                    "label": label if label not in (text, str(iri)) else None}
        if value["type"] == "bnode":
            return {"text": "_:" + value["value"]}
        lang, datatype = value.get("xml:lang"), value.get("datatype", "")
        local = re.split(r"[#/]", datatype)[-1]
        if lang:
            return {"text": value["value"], "note": lang, "title": f"language: {lang}"}
        if datatype and local not in ("string", "langString"):
            return {"text": value["value"], "note": LITERAL_KINDS.get(local, local), "title": f"datatype: {datatype}"}
        return {"text": value["value"], "note": None}

    return {"vars": variables, "rows": [[cell(b.get(v)) for v in variables] for b in data["results"]["bindings"]]}


# A literal's datatype in words: the page without JavaScript and the editor's results table
# (given to static/query.js in the editor's config) show the same words
LITERAL_KINDS = {"integer": "number", "decimal": "number", "double": "number", "float": "number", "int": "number",
                 "long": "number", "nonNegativeInteger": "number", "positiveInteger": "number", "date": "date",
                 "dateTime": "date and time", "gYear": "year", "gYearMonth": "month", "gMonthDay": "day",
                 "boolean": "yes/no", "anyURI": "address"}

CACHE_CONTROL = "public, max-age=300"


def content_security_policy(style_hashes: Iterable[str] = ()) -> str:
    """Every page is self-contained: no inline script or style, nothing from elsewhere, never
    framed. `style_hashes` ('sha256-…') allow exactly those inline stylesheets, nothing else."""
    styles = " ".join(["'self'", *(f"'{h}'" for h in style_hashes)])
    return (f"default-src 'self'; script-src 'self'; style-src {styles}; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def submit(job: QueryRequest) -> Answer:
    """Query work, admitted (`admission.Admission`: a slot, this client's share and rate) and run in
    the worker pool. Every route that does query work calls this; cached answers never get here."""
    state = current()
    with state.admission.admit(request.remote_addr or "-"):
        return state.pool.submit(job)  # type: ignore[no-any-return]


def job_etag(job: QueryRequest) -> str:
    """The weak ETag and answer-cache key of a request: the dataset version and the request."""
    return hashlib.sha256(repr((current().kg.version, job)).encode("utf-8")).hexdigest()[:32]


def cached(job: QueryRequest) -> Answer:
    """A request's answer from the app's answer cache, or run (`submit`) and cached. The editor
    page runs its query as the editor's own /sparql request does, so the two share one run."""
    return current().answers.get_or_run(job_etag(job), lambda: submit(job))  # type: ignore[no-any-return]


def answer(job: QueryRequest, cache_control: str = CACHE_CONTROL) -> Response:
    """Run a query request in the worker pool and answer it: the same dataset version and the
    same request give the same bytes, so a weak ETag answers revalidations (304) and the app's
    answer cache spares repeated work. Every route that runs a query answers through here."""
    etag = job_etag(job)
    if request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        result = cached(job)
        response = Response(result.body, content_type=result.content_type)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = cache_control
    return response


def html(template: str, status: int = 200, **context: Any) -> Response:
    """A page rendered from `template`, revalidated on every visit."""
    response = Response(render_template(template, **context), status=status, content_type=HTML.content_type)
    response.headers["Cache-Control"] = "no-cache"
    return response


def local_path(kg: KnowledgeGraph, iri: str) -> str:
    """The path of an IRI under the base on this server (without script_root)."""
    return "/" + iri[len(kg.base):]


def labelled(kg: KnowledgeGraph, cls: URIRef) -> list[dict[str, str]]:
    """The instances of `cls` under the base, with label, local path and slug, A-Z."""
    view = View(kg, kg.dataset)
    nodes = {s for s in kg.dataset.subjects(RDF.type, cls) if isinstance(s, URIRef) and s.startswith(kg.base)}
    return sorted(({"label": view.label(n), "href": local_path(kg, n), "slug": n.rsplit("/", 1)[-1]}
                   for n in nodes), key=lambda e: e["label"].casefold())
