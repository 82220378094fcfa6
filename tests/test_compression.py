"""Compressed responses (serving/compression.py): text answers compressed in the encoding the
client accepts and identical once decoded, plain bytes for a client that accepts none, downloads
untouched, and the caching that keeps a repeat visit small."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

try:  # zstd is in the standard library from Python 3.14; flask-compress needs the backport before
    from compression import zstd
except ImportError:
    from backports import zstd

from ops_support import make_demo_store, routing_body

DECODERS = {"br": brotli.decompress, "gzip": gzip.decompress, "zstd": zstd.decompress}
# The index page signs a new page-load id each time it is rendered.
PAGE_LOAD_ID = re.compile(rb'"end_id":"[^"]*"')


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):  # served by conftest's `app` and `client`
    return make_demo_store(tmp_path_factory.mktemp("compression") / "store.duckdb", rows=1500, seed=3)


def bundle_paths(client) -> list[str]:
    return re.findall(r'src="(/_dash-component-suites/[^"]+)"', client.open("/").get_data(as_text=True))


def fetch(client, app, what: str, encoding: str):
    """One response of each kind the renderer asks for, with `encoding` accepted."""
    headers = {"Accept-Encoding": encoding}
    if what == "callback":
        headers["X-CSRFToken"] = client.token
        return client.test_client.post(
            "/_dash-update-component", json=routing_body(app, "/", "?gender=Woman"), headers=headers
        )
    path = {
        "page": "/",
        "layout": "/_dash-layout",
        "dependencies": "/_dash-dependencies",
        "bundle": next(p for p in bundle_paths(client) if "dash_core_components." in p),
        "stylesheet": "/assets/style.css",
        "map geometry": "/assets/topojson/world_110m.json",
        "plotly.js": "/_dash-component-suites/plotly/package_data/plotly.min.js",
    }[what]
    return client.test_client.get(path, headers=headers)


KINDS = ["page", "layout", "dependencies", "callback", "bundle", "stylesheet", "map geometry", "plotly.js"]


@pytest.mark.parametrize("encoding", ["br", "gzip", "zstd"])
def test_text_responses_are_compressed_in_an_accepted_encoding(app, client, encoding):
    for what in KINDS:
        plain = fetch(client, app, what, "identity")
        packed = fetch(client, app, what, f"{encoding}, deflate;q=0.5")
        assert plain.status_code == packed.status_code == 200, what
        assert "Content-Encoding" not in plain.headers, what
        assert packed.headers["Content-Encoding"] == encoding, what
        assert "accept-encoding" in packed.headers["Vary"].lower(), what
        original = PAGE_LOAD_ID.sub(b"", plain.get_data())
        assert PAGE_LOAD_ID.sub(b"", DECODERS[encoding](packed.get_data())) == original, what
        assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(plain.get_data()) * 0.6, what


def test_a_client_accepting_no_compression_gets_the_plain_bytes(app, client):
    for what in KINDS:
        for header in ("", "identity", "compress, deflate"):
            response = fetch(client, app, what, header)
            assert response.status_code == 200 and "Content-Encoding" not in response.headers, (what, header)


def test_downloads_are_sent_as_they_are(client):
    for path in ("/download/codebook.md", "/download/datacard.json", "/download/records.csv?gender=Woman"):
        response = client.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200, path
        assert "Content-Encoding" not in response.headers, path
        assert response.get_data() == client.get(path).get_data(), path


def test_files_named_by_their_version_are_cached_for_a_year(client):
    bundles = bundle_paths(client)
    assert bundles
    for path in bundles:
        control = client.get(path, headers={"Accept-Encoding": "br"}).headers["Cache-Control"]
        assert "max-age=31536000" in control and "immutable" in control and "no-cache" not in control, path
    stylesheet = re.search(r'href="(/assets/style\.css\?m=[^"]+)"', client.open("/").get_data(as_text=True)).group(1)
    assert "immutable" in client.get(stylesheet).headers["Cache-Control"]
    # Without a version in the address, a file is revalidated, and stays small when it has not changed.
    unversioned = client.get("/assets/style.css").headers.get("Cache-Control", "")
    assert "immutable" not in unversioned and "max-age=31536000" not in unversioned


def test_unchanged_files_are_revalidated_in_a_few_bytes_when_compressed(client):
    for path in ("/_dash-component-suites/plotly/package_data/plotly.min.js", "/assets/topojson/world_110m.json"):
        first = client.get(path, headers={"Accept-Encoding": "br"})
        tag = first.headers["ETag"]
        again = client.get(path, headers={"Accept-Encoding": "br", "If-None-Match": tag})
        assert again.status_code == 304 and again.get_data() == b"", path
        assert client.get(path, headers={"Accept-Encoding": "br", "If-None-Match": '"other"'}).status_code == 200


def test_compressed_files_are_kept_once_per_file_whatever_the_address(app, client):
    kept = app.server.extensions["gsd_compress"].cache
    path = next(p for p in bundle_paths(client) if "dash_core_components." in p)
    before = len(kept)
    bodies = set()
    for fingerprint in ("v1_0_0m1", "v2_0_0m2", "v9_9_9m99"):
        varied = re.sub(r"\.v[\w-]+m[0-9a-f]+\.", f".{fingerprint}.", path)
        response = client.get(varied, headers={"Accept-Encoding": "br"})
        assert response.status_code == 200
        bodies.add(response.get_data())
    client.get(path + "?x=1", headers={"Accept-Encoding": "br"})
    assert len(bodies) == 1
    assert len(kept) <= before + 1
    # Answers are never kept: they differ from one request to the next.
    for search in ("?gender=Woman", "?gender=Man", ""):
        client.test_client.post(
            "/_dash-update-component",
            json=routing_body(app, "/", search),
            headers={"Accept-Encoding": "br", "X-CSRFToken": client.token},
        )
    assert len(kept) <= before + 1
