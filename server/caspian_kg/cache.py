"""An in-process cache of serialised answers, in the web process, in front of the worker pool.

One per application (`web.state.AppState.answers`, sized by `Config.cache_entries` and
`Config.cache_bytes`): two apps in one process never share answers.

Why: the graph is read-only once loaded, so an answer is a pure function of (dataset version,
request). ETags already spare the bytes for clients that revalidate; this spares the work for
clients that do not (a fresh browser, a load balancer, a benchmark), at the cost of a dict
lookup. Keys carry the dataset version, so a reload can never serve a stale answer; entries are
evicted least-recently-used, bounded by count and total bytes. Thread-safe (the HTTP server's threads).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

class AnswerCache:
    """LRU of answers (anything with a `.body` of bytes) keyed by a hashable request key."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_run(self, key: Hashable, run: Callable[[], T]) -> T:
        """The cached answer for `key`, or `run()`'s (cached when it succeeds)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]  # type: ignore[no-any-return]
            self.misses += 1
        value = run()  # outside the lock: other requests proceed meanwhile
        size = len(getattr(value, "body", b""))
        if self.max_entries <= 0 or size > self.max_bytes // 4:
            return value
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(getattr(old, "body", b""))
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
