"""Content-Encoding: every text response comes compressed when the client asks (Accept-Encoding),
byte-identical once decoded, and revalidation (ETag / 304) still works on the compressed copy."""

from __future__ import annotations

import zlib
from urllib.parse import quote

import brotli
import pytest
from flask.testing import FlaskClient

try:  # Python 3.14+
    from compression import zstd
except ImportError:  # flask-compress's own dependency on older Pythons
    from backports import zstd

DECODE = {
    "gzip": lambda data: zlib.decompress(data, 16 + zlib.MAX_WBITS),
    "deflate": zlib.decompress,
    "br": brotli.decompress,
    "zstd": zstd.decompress,
}

QUERY = quote("SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label")
# (path, Accept): query results, saved queries, pages, RDF, a streamed dump, the ontology, VoID
CASES = [
    (f"/sparql?query={QUERY}", "application/sparql-results+json"),
    (f"/sparql?query={QUERY}", "text/csv"),
    ("/queries/org-members?format=xml", None),
    ("/queries", "application/json"),
    ("/id/state/azerbaijan.html", None),
    ("/id/state/azerbaijan.ttl", None),
    ("/export/caspian-kg.nt", None),
    ("/ontology.html", None),
    ("/void.ttl", None),
    ("/timeline", "text/html"),
    ("/chart/cica.svg", None),
]


def _get(client: FlaskClient, path: str, accept: str | None, encoding: str | None, **headers: str):  # type: ignore[no-untyped-def]
    if accept:
        headers["Accept"] = accept
    if encoding:
        headers["Accept-Encoding"] = encoding
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.data[:200])
    return response


@pytest.mark.parametrize(("path", "accept"), CASES, ids=[c[0][:40] for c in CASES])
@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip", "deflate"])
def test_compressed_copy_decodes_to_the_identity_bytes(client: FlaskClient, path: str, accept: str | None,
                                                       encoding: str) -> None:
    plain = _get(client, path, accept, None)
    assert "Content-Encoding" not in plain.headers  # no Accept-Encoding: identity
    packed = _get(client, path, accept, encoding)
    used = packed.headers.get("Content-Encoding")
    if used is None:  # only a streamed body in gzip stays plain: gzip cannot be streamed
        assert encoding == "gzip" and packed.is_streamed
        assert packed.data == plain.data
        return
    assert used == encoding
    assert DECODE[used](packed.data) == plain.data
    assert len(packed.data) < len(plain.data)
    assert "Accept-Encoding" in packed.headers["Vary"]


def test_country_page_shrinks_several_fold(client: FlaskClient) -> None:
    """The largest page (Azerbaijan) is several times smaller on the wire. (It used to repeat its
    evidence per row and shrank 8-fold; each passage is now printed once, so there is less to
    squeeze: 54 KB -> 9 KB.)"""
    plain = _get(client, "/id/state/azerbaijan.html", None, None)
    packed = _get(client, "/id/state/azerbaijan.html", None, "gzip, deflate, br")
    assert packed.headers["Content-Encoding"] == "br"
    assert len(packed.data) * 4 < len(plain.data)


def test_small_and_error_responses_stay_plain(client: FlaskClient) -> None:
    health = client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in health.headers  # under the 1 KiB threshold
    bad = client.get("/sparql?query=SELECT", headers={"Accept-Encoding": "gzip"})
    assert bad.status_code == 400 and "Content-Encoding" not in bad.headers


def test_strong_etag_names_the_encoding_and_revalidates(client: FlaskClient) -> None:
    """A page's strong ETag differs per encoding (RFC 9110) and still gets its 304."""
    plain = _get(client, "/id/state/azerbaijan.html", None, None)
    packed = _get(client, "/id/state/azerbaijan.html", None, "gzip")
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + ':gzip"'
    again = client.get("/id/state/azerbaijan.html",
                       headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_weak_etag_of_an_answer_is_shared_by_every_encoding(client: FlaskClient) -> None:
    """A query answer's weak ETag means "the same answer", whatever the encoding."""
    path = f"/sparql?query={QUERY}"
    plain = _get(client, path, None, None)
    packed = _get(client, path, None, "br")
    assert packed.headers["ETag"] == plain.headers["ETag"] and packed.headers["ETag"].startswith("W/")
    again = client.get(path, headers={"Accept-Encoding": "br", "If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304


def test_streamed_dump_revalidates_with_its_encoded_etag(client: FlaskClient) -> None:
    """A streamed, compressed dump's ETag (with its ":zstd") revalidates to an empty 304."""
    packed = _get(client, "/export/caspian-kg.nt", None, "zstd")
    assert packed.headers["Content-Encoding"] == "zstd" and packed.headers["ETag"].endswith(':zstd"')
    again = client.get("/export/caspian-kg.nt",
                       headers={"Accept-Encoding": "zstd", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and not again.data
