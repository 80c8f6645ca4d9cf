"""The application's state, typed: one object per app instead of string keys in app.extensions.

Built once by `create_app`; views reach it with `current()`. Everything here is read-only after
start except the caches, which are keyed by dataset version (the graph never changes under
them) and the worker pool, which is thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, current_app

from ..admission import Admission
from ..cache import AnswerCache
from ..config import Config
from ..graph import KnowledgeGraph
from ..query import QueryService
from ..saved_queries import QueryLibrary
from ..workers import WorkerPool

KEY = "caspian_kg"
T = TypeVar("T")


@dataclass
class AppState:
    config: Config
    kg: KnowledgeGraph
    library: QueryLibrary
    service: QueryService
    pool: WorkerPool  # the forked query workers: every query of every route runs here
    answers: AnswerCache  # serialised answers by (dataset version, request)
    admission: Admission  # bounds query work in flight, overall and per client
    _derived: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def derived(self, name: str, build: Callable[[KnowledgeGraph], T]) -> T:
        """`build(kg)` once per dataset version: what pages derive from the read-only graph
        (counts, the search index, VoID, dumps, chart inputs) is computed once."""
        key = (name, self.kg.version)
        if key not in self._derived:
            value = build(self.kg)
            with self._lock:
                self._derived.setdefault(key, value)
        return self._derived[key]  # type: ignore[no-any-return]


def current() -> AppState:
    """The state of the app handling the current request."""
    return current_app.extensions[KEY]  # type: ignore[no-any-return]


def of(app: Flask) -> AppState:
    """The state of `app` (tests, `serve`)."""
    return app.extensions[KEY]  # type: ignore[no-any-return]
