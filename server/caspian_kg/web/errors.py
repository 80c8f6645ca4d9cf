"""Errors over HTTP, in one place: a `CaspianError` carries its status and one-line message;
werkzeug's own (404 routing, 405, 413) keep theirs; anything else is a logged 500 that shows no
traceback. Every route answers the same way (`error_response`): a browser (HTML preferred in
Accept) gets the one error page (templates/error.html: title, navigation, a search box), other
clients the one-line message as JSON when they prefer it, else as plain text."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from ..errors import CaspianError, RetryLater, one_line
from ..formats import HTML

log = logging.getLogger(__name__)

# in order of preference when Accept ties (`*/*`: curl, scripts): plain text first
ERROR_TYPES = ["text/plain", "application/json", "text/html"]


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
        code = exc.code or 500
        message = exc.description or HTTP_STATUS_CODES.get(code, "")
        if code == 404 and exc.description == type(exc).description:  # werkzeug's generic sentence
            message = f"no page or resource at {request.path}"
        response = error_response(code, message)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
    log.exception("internal error on %s %s", request.method, request.path)
    return error_response(500, "internal server error (logged)")


def error_response(status: int, message: str) -> Response:
    """The error page for a browser; one line of JSON or plain text for everyone else."""
    message = one_line(message)
    title = HTTP_STATUS_CODES.get(status, "Error")
    wanted = request.accept_mimetypes.best_match(ERROR_TYPES)
    if wanted == "text/html":
        try:
            heading = title[:1] + title[1:].lower()  # "Not found", as the site writes headings
            html = render_template("error.html", status=status, title=heading, message=message, path=request.path)
            response = Response(html, content_type=HTML.content_type)
        except Exception:  # a page that cannot render must still answer
            log.exception("the error page failed to render for %s", request.path)
            response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    elif wanted == "application/json":
        response = jsonify(status=status, error=title, message=message)
    else:
        response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def page_or_line(exc: CaspianError) -> Response:
    """The answer to an error raised inside a view that catches it (linked_data): the same as
    every other route's."""
    return error_response(exc.status, exc.message)
