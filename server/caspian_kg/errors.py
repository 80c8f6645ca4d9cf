"""One exception type per failure kind.

Each carries the HTTP status it maps to (the web layer maps them in one place, `web/errors.py`) and a
one-line, user-facing message; the CLI prints the same message and exits with `exit_code`.
"""

from __future__ import annotations


class CaspianError(Exception):
    """Base of every error the project reports to a user (never a traceback)."""

    status: int = 500
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CannotListen(CaspianError):
    """`serve` cannot take its address (in use, not this host's, a privileged port)."""

    exit_code = 2


class LoadError(CaspianError):
    """A data or ontology file could not be read or parsed; nothing was loaded."""

    status = 500
    exit_code = 2

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.reason = path, line, reason


class ValidationError(CaspianError):
    """The data violates the SHACL shapes or the OWL 2 RL axioms; the graph is not served."""

    status = 500
    exit_code = 1

    def __init__(self, problems: list[str]) -> None:
        head = f"{len(problems)} validation problem(s): " + problems[0] if problems else "invalid"
        super().__init__(head)
        self.problems = problems


class BadRequest(CaspianError):
    """The request or query is malformed (HTTP 400)."""

    status = 400
    exit_code = 2


class EngineSyntaxError(BadRequest):
    """A native engine could not parse a query the service handed it unparsed; the service
    reports rdflib's reason instead, so the message does not depend on the store."""


class NotFound(CaspianError):
    status = 404
    exit_code = 2


class NoSuchStatement(NotFound):
    """`explain` of a statement that is neither asserted nor inferred (exit 1, as grep's "not found")."""

    exit_code = 1


class NotAcceptable(CaspianError):
    status = 406
    exit_code = 2


class PayloadTooLarge(CaspianError):
    status = 413
    exit_code = 2


class UnsupportedMediaType(CaspianError):
    status = 415
    exit_code = 2


class RetryLater(CaspianError):
    """A refusal for now, not for good: carries the seconds to wait (HTTP Retry-After)."""

    exit_code = 3
    retry_after = 1

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.retry_after = retry_after


class ServiceBusy(RetryLater):
    """Every query slot is taken: come back shortly (HTTP 503)."""

    status = 503
    retry_after = 2


class TooManyRequests(RetryLater):
    """One client asks for more query work than its share (HTTP 429)."""

    status = 429


class QueryTimeout(RetryLater):
    """The query ran past its deadline, or no worker came free in time (HTTP 503)."""

    status = 503
    retry_after = 5  # a worker is free again by then; the same query will run out of time again


class ResultTooLarge(CaspianError):
    status = 413
    exit_code = 3


class StoreError(CaspianError):
    """The configured store cannot be opened or reached."""

    status = 503
    exit_code = 2


def one_line(text: str, limit: int = 500) -> str:
    """Collapse whitespace so a message fits on one line (parser messages span several)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
