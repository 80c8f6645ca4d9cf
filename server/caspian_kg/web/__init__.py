"""The Flask application factory: one loaded graph, read-only views over it, errors in one place.

`create_app(config, kg)` builds the typed state (`state.AppState`: graph, config, saved-query
library, query service, worker pool, answer cache) and registers each blueprint by name, as
Flask's tutorial does. Web modules may import the domain modules; no domain module imports this
package.
"""

from __future__ import annotations

import atexit
import logging
import time
from functools import partial

from flask import Flask, Response, current_app, g, jsonify, request
from flask_compress import Compress

from ..admission import Admission, query_slots
from ..cache import AnswerCache
from ..config import Config
from ..formats import GRAPH_FORMATS, RESULT_FORMATS
from ..graph import KnowledgeGraph
from ..open import open_graph
from ..query import QueryService, init_worker
from ..saved_queries import QueryLibrary
from ..workers import WorkerPool
from . import charts, editor, errors, explain, helpers, linked_data, openapi, pages, saved_queries, sparql
from .state import KEY, AppState, current

access_log = logging.getLogger("caspian_kg.access")

MAX_LOGGED_PATH = 1000  # queries in URLs can be long; the log keeps their start
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Type, Content-Length, Vary",
}
DOCUMENT_TYPES = ("text/html", "image/svg+xml")
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}


def create_app(config: Config | None = None, kg: KnowledgeGraph | None = None) -> Flask:
    """Build the app around `kg` (loaded from `config` when not given).

    The query worker pool is created here but forks lazily on the first query, so apps that
    never run a query (tests of other pages) cost no processes; `serve.run` starts it eagerly,
    before the server's threads exist. A broken saved query stops the app here, at start.
    """
    config = config or Config()
    kg = kg if kg is not None else open_graph(config)
    library = QueryLibrary.load(config, eager=kg.engine.needs_algebra)
    service = QueryService(kg, config.max_results, config.max_query_bytes, library)
    pool = WorkerPool(service.answer, size=config.workers, timeout=config.query_timeout,
                      initializer=partial(init_worker, kg))
    atexit.register(pool.close)
    app = Flask(__name__)
    # a form-encoded query is at most ~3x its size after percent-encoding, plus other parameters
    app.config["MAX_CONTENT_LENGTH"] = 3 * config.max_query_bytes + 16_384
    app.json.sort_keys = False  # type: ignore[attr-defined]
    admission = Admission(query_slots(config.workers, config.query_queue, config.threads), config.client_queries,
                          config.client_rate)
    app.extensions[KEY] = AppState(config, kg, library, service, pool,
                                   AnswerCache(config.cache_entries, config.cache_bytes), admission)
    for module in (sparql, editor, saved_queries, openapi, linked_data, pages, charts, explain):
        app.register_blueprint(module.bp)
    app.add_url_rule("/health", "health", health)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    _compress(app)
    errors.init_app(app)
    app.before_request(_start_timer)
    app.before_request(helpers.strict_utf8)
    app.before_request(helpers.known_formats)
    app.after_request(_cors)
    app.after_request(_security_headers)
    app.after_request(_access_log)
    return app


def _compress(app: Flask) -> None:
    """Content-Encoding (zstd, br, gzip, deflate) by the client's Accept-Encoding, through
    Flask-Compress: results, RDF and pages are text that shrinks 5-20x (a country's page repeats
    its evidence passages). Weak ETags (query answers) stay as they are; a strong one (pages,
    dumps) gets the encoding appended, as RFC 9110 requires of a different representation.
    Streamed dumps are compressed as they stream (zstd, br or deflate: gzip cannot stream)."""
    app.config["COMPRESS_MIMETYPES"] = sorted(
        {f.media_type for f in RESULT_FORMATS + GRAPH_FORMATS}
        | {"text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
           "application/json", "application/xml", "image/svg+xml"})
    app.config["COMPRESS_MIN_SIZE"] = 1024  # below a packet, compressing only costs time
    Compress(app)


def health() -> Response:
    """Liveness and what is loaded (for load balancers and for tests waiting on a server)."""
    state = current()
    kg = state.kg
    response = jsonify(
        status="ok",
        triples=len(kg.dataset),
        inferred=len(kg.dataset.get_context(kg.inferred_graph)),
        graphs=len(kg.graphs),
        version=kg.version,
        store=kg.engine.kind,
        workers=state.config.workers,
        worker_restarts=state.pool.restarts,
        query_slots={"total": state.admission.slots, "busy": state.admission.busy},
        refused={str(status): n for status, n in sorted(state.admission.refused.items())},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def favicon() -> Response:
    """/favicon.ico, which browsers ask for by name: the site's SVG icon (pages link it too)."""
    response = current_app.send_static_file("favicon.svg")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# --- HTTP hygiene ---------------------------------------------------------------------------


def _start_timer() -> None:
    g.caspian_started = time.perf_counter()


def _cors(response: Response) -> Response:
    """Public read-only data: any origin may GET/POST; preflights are answered for every route."""
    response.headers.update(CORS_HEADERS)
    if request.method == "OPTIONS":
        response.headers.update(PREFLIGHT_HEADERS)
        requested = request.headers.get("Access-Control-Request-Headers")
        response.headers["Access-Control-Allow-Headers"] = requested or "Accept, Content-Type, If-None-Match"
    return response


def _security_headers(response: Response) -> Response:
    """nosniff and a referrer policy on everything; on pages (HTML, SVG) a strict CSP and no
    framing. And `Vary: Accept`: nearly every route negotiates (errors too: JSON or text), so a
    shared cache must never hand one client's representation to another. A page may set its own
    policy (`helpers.content_security_policy`: the editor allows one stylesheet YASGUI injects)."""
    if request.endpoint is None or not request.endpoint.endswith("static"):
        response.vary.add("Accept")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if response.mimetype in DOCUMENT_TYPES:
        response.headers.setdefault("Content-Security-Policy", helpers.content_security_policy())
        response.headers["X-Frame-Options"] = "DENY"
    return response


def _access_log(response: Response) -> Response:
    """One combined-log-style line per request, with the time taken."""
    elapsed = time.perf_counter() - g.get("caspian_started", time.perf_counter())
    access_log.info(
        '%s "%s %s %s" %s %s %.3fs "%s"',
        request.remote_addr or "-",
        request.method,
        (request.full_path if request.query_string else request.path)[:MAX_LOGGED_PATH],
        request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        response.status_code,
        response.calculate_content_length() or "-",
        elapsed,
        request.user_agent.string or "-",
    )
    return response
