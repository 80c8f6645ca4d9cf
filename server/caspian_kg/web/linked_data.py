"""Linked data: every IRI under the base dereferences; resource pages with evidence; dumps; VoID.

URL space. The server maps its paths onto the canonical base: path `/id/state/azerbaijan` is the
IRI `{base}id/state/azerbaijan`, `/ontology` is `{base}ontology` (and, since fragments are never
sent, every `{base}ontology#Term`), `/void` is the VoID document whose `#dataset` is the dataset.

One rule, applied everywhere: **303 See Other**. An IRI names a thing (a state, a class, a
dataset), not a document, so `GET /id/state/azerbaijan` answers `303` with `Location:` the
document about it, `/id/state/azerbaijan.{html,ttl,jsonld,nt,rdf,trig,nq}`, chosen by `Accept`
(`Vary: Accept`). Document URLs are plain resources with one fixed type each, so they can be
bookmarked, cached and linked without conneg. Unknown IRIs answer 404 directly (no redirect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request
from rdflib import Dataset, URIRef
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import dumps
from ..describe import describe, ontology_dataset, rdf_bytes
from ..errors import CaspianError, NotFound
from ..formats import DOCUMENT_FORMATS, EXTENSIONS, GRAPH_FORMATS, HTML, Format, negotiate
from ..graph import KnowledgeGraph
from ..views import views
from ..vocab import ck
from ..void import describe_dataset
from . import errors, helpers
from .entity_page import entity_page
from .resource_page import ontology_page, void_page
from .state import current

bp = Blueprint("linked_data", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ld-static")


def _kg() -> KnowledgeGraph:
    return current().kg


def see_other(path: str, canonical: str | None = None) -> WerkzeugResponse:
    """303 to `path.{ext}` for the negotiated format; the query string is carried over. `Link`
    names every document about the thing and its canonical IRI."""
    fmt = negotiate(request.headers.get("Accept"), DOCUMENT_FORMATS)
    query = request.query_string.decode("ascii")
    response = redirect(f"{request.script_root}{path}.{fmt.extension}" + (f"?{query}" if query else ""), code=303)
    response.headers["Link"] = document_links(path, canonical)
    return response


def document_links(path: str, canonical: str | None, current: Format | None = None) -> str:
    """A `Link` header value: the thing's other documents (rel="alternate", with their media
    types) and, when it has one, its canonical IRI (rel="canonical")."""
    links = [f'<{request.script_root}{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
             for f in DOCUMENT_FORMATS if f is not current]
    return ", ".join(links + ([f'<{canonical}>; rel="canonical"'] if canonical else []))


@bp.errorhandler(CaspianError)
def _error(exc: CaspianError) -> Response:
    return errors.page_or_line(exc)


# --- /id/… : things and the documents about them ---------------------------------------------


@bp.get("/id/<path:rest>")
def resource(rest: str) -> WerkzeugResponse:
    kg = _kg()
    stem, dot, extension = rest.rpartition(".")
    if dot and extension in EXTENSIONS:
        return resource_document(kg, URIRef(f"{kg.base}id/{stem}"), f"/id/{stem}", extension)
    iri = URIRef(f"{kg.base}id/{rest}")
    require(kg, iri)
    return see_other(f"/id/{rest}", str(iri))


def require(kg: KnowledgeGraph, iri: URIRef) -> None:
    """NotFound unless the IRI occurs in the data (as subject or object, closure included)."""
    if not views(kg).known(iri):
        raise NotFound(f"no resource <{iri}> in this dataset")


def resource_document(kg: KnowledgeGraph, iri: URIRef, path: str, extension: str) -> Response:
    """The document `{path}.{extension}` about `iri`, with Link headers to its other documents."""
    require(kg, iri)
    inference = helpers.inference()
    fmt = EXTENSIONS[extension]
    variant = f"{iri[len(kg.base):]}.{extension}-{'rl' if inference else 'none'}"
    links = document_links(path, str(iri), fmt)
    if fmt is HTML:
        return helpers.conditional(lambda: entity_html(kg, iri, inference), fmt, variant, Link=links)
    return helpers.conditional(lambda: rdf_bytes(describe(kg, iri, inference), fmt), fmt, variant, Link=links)


PAGE_MEMO = 512  # rendered entity pages kept per dataset version (about 30 KB each)


def entity_html(kg: KnowledgeGraph, iri: URIRef, inference: bool) -> bytes:
    """An entity page, rendered once per dataset version, mount point and inference setting
    (the graph is read-only: the same request always gives the same bytes); at most PAGE_MEMO
    pages are kept."""
    memo: dict[tuple[str, str, bool], bytes] = current().derived("entity pages", lambda kg: {})
    key = (str(iri), request.script_root, inference)
    page = memo.get(key)
    if page is None:
        page = render_template("resource.html", **entity_page(kg, iri, request.script_root, inference,
                                                              current().config.data_dir)).encode()
        if len(memo) >= PAGE_MEMO:
            memo.clear()
        memo[key] = page
    return page


# --- /ontology: the whole ontology document, per-term descriptions, an HTML documentation ----


@bp.get("/ontology")
def ontology() -> WerkzeugResponse:
    return see_other("/ontology", f"{_kg().base}ontology")


@bp.get("/ontology.<extension>")
def ontology_document(extension: str) -> Response:
    kg = _kg()
    return _document("ontology", extension, lambda: ontology_page(kg), lambda: ontology_dataset(kg))


def _document(name: str, extension: str, page: Callable[[], dict[str, Any]], rdf: Callable[[], Dataset]) -> Response:
    """The document `/{name}.{extension}`: the page `{name}.html` or the RDF in that syntax."""
    fmt = _document_format(extension)
    if fmt is HTML:
        return helpers.conditional(lambda: render_template(f"{name}.html", **page()).encode(), fmt, f"{name}.html")
    return helpers.conditional(lambda: rdf_bytes(rdf(), fmt), fmt, f"{name}.{extension}")


@bp.get("/ontology/<term>")
def ontology_term(term: str) -> WerkzeugResponse:
    """`/ontology/State` stands for `{base}ontology#State`: HTML goes to its section of the
    ontology page, RDF to the term's own description (with what the closure says about it)."""
    kg = _kg()
    stem, dot, extension = term.rpartition(".")
    if dot and extension in EXTENSIONS:
        iri = ck(kg.base)[stem]
        require(kg, iri)
        if extension == "html":
            return redirect(f"{request.script_root}/ontology.html#{stem}", code=303)
        return resource_document(kg, iri, f"/ontology/{stem}", extension)
    require(kg, ck(kg.base)[term])
    return see_other(f"/ontology/{term}", str(ck(kg.base)[term]))


# --- /void and /.well-known/void: the dataset description --------------------------------------


@bp.get("/.well-known/void")
@bp.get("/void")
def void() -> WerkzeugResponse:
    return see_other("/void", f"{_kg().base}void")


@bp.get("/void.<extension>")
def void_document(extension: str) -> Response:
    kg = _kg()

    def description() -> Dataset:
        out = Dataset()
        graph = current().derived("void", describe_dataset)
        for prefix, ns in graph.namespaces():
            out.bind(prefix, ns, override=False)
        out.default_graph += graph
        return out

    return _document("void", extension, lambda: void_page(kg), description)


def _document_format(extension: str) -> Format:
    if extension not in EXTENSIONS:
        raise NotFound(f"no document format {extension!r}; use one of {', '.join(EXTENSIONS)}")
    return EXTENSIONS[extension]


# --- /graph/… and /export/…: dumps ------------------------------------------------------------


@bp.get("/graph/<path:name>")
def named_graph(name: str) -> WerkzeugResponse:
    """A named graph's IRI dereferences to its dump (Turtle unless Accept says otherwise)."""
    kg = _kg()
    if name not in kg.graphs:
        raise NotFound(f"no named graph <{kg.base}graph/{name}>")
    fmt = negotiate(request.headers.get("Accept"), GRAPH_FORMATS)
    response = redirect(f"{request.script_root}/export/caspian-kg.{fmt.extension}?graph={name}", code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/export/")
@bp.get("/export")
def export_index() -> WerkzeugResponse:
    return redirect(f"{request.script_root}/void.html#dumps", code=303)


@bp.get("/export/caspian-kg.<extension>")
def export(extension: str) -> Response:
    """The whole dataset (or `?graph=name`), streamed, as `caspian-kg export` writes it."""
    kg = _kg()
    spec = dumps.DUMP_EXTENSIONS.get(extension)
    if spec is None:
        raise NotFound(f"no dump format {extension!r}; use one of {', '.join(dumps.DUMP_EXTENSIONS)}")
    inference = helpers.inference()
    graph = helpers.single(request.args, "graph") or None
    if graph is not None and (graph not in kg.graphs or (graph == "inferred" and not inference)):
        raise NotFound(f"no named graph {graph!r}; use one of {', '.join(kg.graphs)}")
    name = "caspian-kg" + ("" if inference else "-asserted") + (f"-{graph.replace('/', '-')}" if graph else "")
    return helpers.conditional(lambda: dumps.chunks(cached_dump(kg, spec.name, inference, graph)), spec,
                               f"{name}.{extension}", Link=f'<{dumps.LICENSE_URL}>; rel="license"',
                               **{"Content-Disposition": f'attachment; filename="{name}.{extension}"'})


def cached_dump(kg: KnowledgeGraph, fmt: str, inference: bool, graph: str | None) -> bytes:
    """Dumps are deterministic per dataset version, so each variant is serialised once."""
    return current().derived(f"dump {fmt} {inference} {graph}",
                             lambda kg: dumps.serialize(kg, fmt, inference=inference, graph=graph))
