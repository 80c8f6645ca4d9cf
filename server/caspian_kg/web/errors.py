"""Errors over HTTP, in one place: a `CaspianError` carries its status and one-line message;
werkzeug's own (404 routing, 405, 413) keep theirs; anything else is a logged 500 that shows no
traceback. Bodies are one line, JSON when the client prefers it."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from ..errors import CaspianError, RetryLater, one_line
from ..formats import HTML

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(CaspianError, caspian_error)
    app.register_error_handler(Exception, generic_error)


def caspian_error(exc: CaspianError) -> Response:
    response = error_response(exc.status, exc.message)
    if isinstance(exc, RetryLater):  # 503 busy or past the deadline, 429 over a client's share
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def generic_error(exc: Exception) -> Response:
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


def page_or_line(exc: CaspianError) -> Response:
    """A browser asking for a resource that is not there gets an HTML 404 page with navigation;
    every other client the one-line body."""
    if exc.status == 404 and request.accept_mimetypes.best_match(["text/plain", "text/html"]) == "text/html":
        html = render_template("not_found.html", message=exc.message, path=request.path)
        return Response(html, status=404, content_type=HTML.content_type)
    return error_response(exc.status, exc.message)
