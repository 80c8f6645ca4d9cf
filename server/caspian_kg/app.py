"""The Flask application factory: one loaded graph, read-only views over it, errors in one place.

`create_app(config, kg)` keeps its state in `app.extensions["caspian_kg"]`, a dict with
`kg` (the KnowledgeGraph), `config` (the Config) and `pool` (the query WorkerPool). Blueprints
read it through `current_app.extensions["caspian_kg"]`.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import logging
import time
from functools import partial
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from .config import Config
from .errors import CaspianError
from .store import KnowledgeGraph, load
from .workers import WorkerPool, one_line

access_log = logging.getLogger("caspian_kg.access")
log = logging.getLogger(__name__)

MAX_LOGGED_PATH = 1000  # queries in URLs can be long; the log keeps their start
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Type, Content-Length, Vary",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}


def create_app(config: Config | None = None, kg: KnowledgeGraph | None = None) -> Flask:
    """Build the app around `kg` (loaded from `config` when not given).

    The query worker pool is created here but forks lazily on the first query, so apps that
    never run a query (tests of other pages) cost no processes; `serve.run` starts it eagerly,
    before the server's threads exist.
    """
    from . import sparql

    config = config or Config()
    kg = kg if kg is not None else load(config)
    app = Flask(__name__)
    # a form-encoded query is at most ~3x its size after percent-encoding, plus other parameters
    app.config["MAX_CONTENT_LENGTH"] = 3 * config.max_query_bytes + 16_384
    app.json.sort_keys = False  # type: ignore[attr-defined]
    pool = WorkerPool(
        partial(sparql.run_query, kg, config.max_results),
        size=config.workers,
        timeout=config.query_timeout,
        initializer=partial(sparql.init_worker, kg),
    )
    atexit.register(pool.close)
    # "pools": every forked pool of the app (blueprints add theirs), started and closed by serve.run
    app.extensions["caspian_kg"] = {"kg": kg, "config": config, "pool": pool, "pools": [pool]}
    app.register_blueprint(sparql.bp)
    for blueprint in _sibling_blueprints():
        app.register_blueprint(blueprint)
    app.add_url_rule("/health", "health", health)
    _compress(app)
    app.register_error_handler(CaspianError, _caspian_error)
    app.register_error_handler(Exception, _generic_error)
    app.before_request(_start_timer)
    app.after_request(_cors)
    app.after_request(_access_log)
    return app


def _compress(app: Flask) -> None:
    """Content-Encoding (zstd, br, gzip, deflate) by the client's Accept-Encoding, through
    Flask-Compress: results, RDF and pages are text that shrinks 5-20x (a country's page repeats
    its evidence passages). Weak ETags (query answers) stay as they are; a strong one (pages,
    dumps) gets the encoding appended, as RFC 9110 requires of a different representation.
    Streamed dumps are compressed as they stream (zstd, br or deflate: gzip cannot stream)."""
    from flask_compress import Compress

    from .formats import GRAPH_FORMATS, RESULT_FORMATS

    app.config["COMPRESS_MIMETYPES"] = sorted(
        {f.media_type for f in RESULT_FORMATS + GRAPH_FORMATS}
        | {"text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
           "application/json", "application/xml", "image/svg+xml"})
    app.config["COMPRESS_MIN_SIZE"] = 1024  # below a packet, compressing only costs time
    Compress(app)


# web modules colleagues own; each is registered when present and defines a `bp` Blueprint
BLUEPRINT_MODULES = ("linked_data", "saved_views", "ui")


def _sibling_blueprints() -> list[Blueprint]:
    """Blueprints of the other web modules. A missing module is skipped (it may not exist yet in
    a partial checkout); one that exists but fails to import fails the app, loudly."""
    found = []
    for name in BLUEPRINT_MODULES:
        if importlib.util.find_spec(f"{__package__}.{name}") is None:
            continue
        blueprint = getattr(importlib.import_module(f"{__package__}.{name}"), "bp", None)
        if isinstance(blueprint, Blueprint):
            found.append(blueprint)
    return found


def health() -> Response:
    """Liveness and what is loaded (for load balancers and for tests waiting on a server)."""
    state = _state()
    kg: KnowledgeGraph = state["kg"]
    response = jsonify(
        status="ok",
        triples=len(kg.dataset),
        inferred=len(kg.dataset.get_context(kg.inferred_graph)),
        graphs=len(kg.graphs),
        version=kg.version,
        workers=state["config"].workers,
        worker_restarts=state["pool"].restarts,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _state() -> dict[str, Any]:
    from flask import current_app

    return current_app.extensions["caspian_kg"]  # type: ignore[no-any-return]


# --- errors: CaspianError subclasses carry their status; everything else is generic ---------


def _caspian_error(exc: CaspianError) -> Response:
    return error_response(exc.status, exc.message)


def _generic_error(exc: Exception) -> Response:
    """404/405/413... from routing and werkzeug, and any bug (500, logged, never shown)."""
    if isinstance(exc, HTTPException):
        response = error_response(exc.code or 500, exc.description or HTTP_STATUS_CODES.get(exc.code or 500, ""))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
    log.exception("internal error on %s %s", request.method, request.path)
    return error_response(500, "internal server error (logged)")


def error_response(status: int, message: str) -> Response:
    """A one-line body: JSON if the client prefers it, plain text otherwise."""
    message = one_line(message)
    if request.accept_mimetypes.best_match(["text/plain", "application/json"]) == "application/json":
        response = jsonify(status=status, error=HTTP_STATUS_CODES.get(status, "Error"), message=message)
    else:
        response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
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
