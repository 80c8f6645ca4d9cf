"""Admission to query work: the service keeps answering while slow queries run.

Query work (a request that is not answered from the cache or by a 304) holds an HTTP thread
until a worker answers it. Without a bound, eight slow queries take all eight threads and every
other request — /health, pages, cached answers — waits for the deadline. So:

* at most `slots` requests are in query work at once (running in a worker, or waiting for one);
  `slots` is kept at least two below the HTTP threads, so cheap routes always find a thread.
  When every slot is taken the request is refused at once: 503 with Retry-After (`ServiceBusy`);
* one client (by address) holds at most `per_client` slots: 429 with Retry-After past that;
* one client starts at most `rate` pieces of query work per window (e.g. "600/minute", the
  `limits` library's moving window): 429 with Retry-After until the window has room.

No domain logic: a client is a string, work is whatever runs inside `admit()`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from .errors import ServiceBusy, TooManyRequests

BUSY_RETRY_SECONDS = 2
RESERVED_THREADS = 2  # HTTP threads never given to query work: cheap routes always find one


def query_slots(workers: int, queue: int, threads: int) -> int:
    """Query work in flight: the workers plus the queue, but never all the HTTP threads."""
    return max(1, min(workers + queue, threads - RESERVED_THREADS))


class Admission:
    """Thread-safe counters of query work in flight, overall and per client, plus a rate limit."""

    def __init__(self, slots: int, per_client: int, rate: str = "") -> None:
        self.slots, self.per_client = max(1, slots), max(1, per_client)
        self.rate = parse(rate) if rate.strip().lower() not in ("", "0", "none") else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage()) if self.rate else None
        self._lock = threading.Lock()
        self._busy = 0
        self._clients: Counter[str] = Counter()
        self.refused: Counter[int] = Counter()  # status -> how many were refused (for /health)

    @contextmanager
    def admit(self, client: str) -> Iterator[None]:
        """Hold a slot for the work done inside, or raise ServiceBusy / TooManyRequests now."""
        with self._lock:
            if self._clients[client] >= self.per_client:
                self.refused[429] += 1
                raise TooManyRequests(f"this client already has {self.per_client} queries running; "
                                      "wait for one to finish", retry_after=1)
            if self._busy >= self.slots:
                self.refused[503] += 1
                raise ServiceBusy(f"all {self.slots} query slots are taken; try again shortly",
                                  retry_after=BUSY_RETRY_SECONDS)
            if self._limiter is not None and self.rate is not None and not self._limiter.hit(self.rate, client):
                self.refused[429] += 1
                reset = self._limiter.get_window_stats(self.rate, client).reset_time
                raise TooManyRequests(f"more than {self.rate} queries from this client; slow down",
                                      retry_after=max(1, math.ceil(reset - time.time())))
            self._busy += 1
            self._clients[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                self._clients[client] -= 1
                if self._clients[client] <= 0:
                    del self._clients[client]

    @property
    def busy(self) -> int:
        return self._busy
