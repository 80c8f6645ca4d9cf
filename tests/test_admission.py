"""Admission control: slow queries never starve the rest of the service.

Query work takes a slot (running in a worker or waiting for one); when every slot is taken a
new query is refused at once with 503 and Retry-After instead of holding a thread for the whole
deadline; one client gets at most its share of slots (429) and of query work per minute (429);
cached answers, 304s and every other route never need a slot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from caspian_kg.admission import Admission, query_slots
from caspian_kg.config import Config
from caspian_kg.errors import ServiceBusy, TooManyRequests
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.web import create_app
from caspian_kg.web.state import of

SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"  # a cross join: minutes


def test_slots_are_bounded_and_freed() -> None:
    admission = Admission(slots=2, per_client=5)
    with admission.admit("a"), admission.admit("b"):
        with pytest.raises(ServiceBusy) as busy, admission.admit("c"):
            pass
        assert busy.value.retry_after > 0 and busy.value.status == 503
    with admission.admit("c"):  # freed again, also after an exception inside
        assert admission.busy == 1
    assert admission.busy == 0


def test_one_client_gets_its_share_only() -> None:
    admission = Admission(slots=10, per_client=2)
    with admission.admit("a"), admission.admit("a"):
        with pytest.raises(TooManyRequests), admission.admit("a"):
            pass
        with admission.admit("b"):  # another client is not affected
            pass


def test_rate_per_client() -> None:
    admission = Admission(slots=10, per_client=10, rate="3/minute")
    for _ in range(3):
        with admission.admit("a"):
            pass
    with pytest.raises(TooManyRequests) as limited, admission.admit("a"):
        pass
    assert 1 <= limited.value.retry_after <= 60
    with admission.admit("b"):
        pass
    assert Admission(1, 1, "none").rate is None


def test_query_work_never_takes_every_http_thread() -> None:
    assert query_slots(workers=2, queue=4, threads=8) == 6
    assert query_slots(workers=2, queue=40, threads=8) == 6
    assert query_slots(workers=8, queue=0, threads=4) == 2


@pytest.fixture()
def one_slot(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    """One worker, no queue: a single slow query takes the only slot for its 20 s deadline."""
    app = create_app(config.with_(workers=1, query_queue=0, threads=3, query_timeout=20.0), kg)
    yield app
    of(app).pool.close()


def test_a_full_service_refuses_at_once_and_cheap_routes_still_answer(one_slot: Flask) -> None:
    done: dict[str, int] = {}
    slow = threading.Thread(target=lambda: done.setdefault(
        "slow", one_slot.test_client().get("/sparql", query_string={"query": SLOW}).status_code))
    warm = one_slot.test_client().get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert warm.status_code == 200  # cached from now on
    slow.start()
    deadline = time.monotonic() + 10
    while of(one_slot).admission.busy == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert of(one_slot).admission.busy == 1
    client = one_slot.test_client()
    started = time.monotonic()
    refused = client.get("/sparql", query_string={"query": "ASK { ?x ?y ?z }"})
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert "query slots are taken" in refused.get_data(as_text=True)
    editor = client.get("/query", query_string={"query": "ASK { ?x ?y ?z }"})
    assert editor.status_code == 503
    for path in ("/health", "/", "/id/state/azerbaijan.html", "/queries", "/void.html"):
        assert client.get(path).status_code == 200, path
    cached = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert cached.status_code == 200  # a cached answer needs no slot
    assert time.monotonic() - started < 10  # none of it waited for the slow query's deadline
    assert client.get("/health").get_json()["refused"]["503"] >= 2
    of(one_slot).pool.close()  # ends the slow query (its worker goes away)
    slow.join(timeout=30)
