"""The store in service: locked down on the app's own connection, replaced under load without
a failed request, and a missing or corrupt store answered clearly, logged once, and recovered
from without a restart."""

from __future__ import annotations

import logging
import os
import re
import threading
import time

import duckdb
import pytest

from builders import random_rows, store_from_rows
from ops_support import DashClient, file_digest, replace_atomically, routing_body


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Three small stores told apart by their record counts."""
    folder = tmp_path_factory.mktemp("stores")
    return {n: store_from_rows(folder / f"s{n}.duckdb", random_rows(n, seed=n)) for n in (200, 350, 275)}


def live_copy(tmp_path, source) -> str:
    path = str(tmp_path / "live.duckdb")
    replace_atomically(source, path)
    return path


def shown_count(layout_text: str) -> int | None:
    match = re.search(r"([0-9,]+) synthetic records", layout_text)
    return int(match.group(1).replace(",", "")) if match else None


# --- the app's connection ---------------------------------------------------------------------

FORBIDDEN = [
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET enable_external_access",
    "SET allowed_directories = ['/']",
    "COPY records TO '{out}/copy.csv'",
    "COPY (SELECT 1) TO '{out}/copy.parquet' (FORMAT parquet)",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "ATTACH '{out}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CREATE TABLE records_copy AS SELECT * FROM records",
    "DELETE FROM records",
    "UPDATE release SET name = 'changed'",
    "DROP TABLE records",
    "EXPORT DATABASE '{out}/export'",
]


def test_the_apps_connection_cannot_leave_the_store_or_change_it(tmp_path, stores):
    from app import create_app

    path = live_copy(tmp_path, stores[200])
    before = file_digest(path)
    store = create_app(path).server.config["GSD_SERVICE"].store()
    out = tmp_path / "out"
    out.mkdir()
    results = {}

    def attempt(cursor, label):
        for statement in FORBIDDEN:
            try:
                cursor.execute(statement.format(out=out))
                results[(label, statement)] = "ran"
            except duckdb.Error:
                pass

    attempt(store._cursor(), "request cursor")
    worker = threading.Thread(target=attempt, args=(store._new_cursor(), "stream cursor"))
    worker.start()
    worker.join()
    assert results == {}, f"statements that ran: {sorted(results)}"
    assert store._cursor().execute("SELECT current_setting('enable_external_access')").fetchone()[0] is False
    assert list(out.iterdir()) == []
    assert file_digest(path) == before
    assert store.count() == 200  # and it still answers


# --- a rebuilt store renamed into place ---------------------------------------------------------


def test_a_store_renamed_into_place_is_served_without_a_failed_request(tmp_path, stores, serve):
    from app import create_app

    path = live_copy(tmp_path, stores[200])
    url = serve(create_app(path))
    failures, seen, stop = [], set(), threading.Event()
    app_for_bodies = create_app(path)
    page_call = routing_body(app_for_bodies, "/", "")

    def hammer():
        client = DashClient(url)
        while not stop.is_set():
            for response in (
                client.open("/"),
                client.get("/_dash-layout"),
                client.post_callback(page_call),
                client.get("/healthz"),
            ):
                if response.status_code != 200:
                    failures.append((response.request.method, response.url, response.status_code, response.text[:200]))
            count = shown_count(client.get("/_dash-layout").text)
            seen.add(count)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for n in (350, 275, 200):
            time.sleep(0.6)
            replace_atomically(stores[n], path)
            deadline = time.monotonic() + 10
            while n not in seen and time.monotonic() < deadline:
                time.sleep(0.05)
            assert n in seen, f"the store with {n} records never appeared (seen: {seen})"
            seen.clear()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    health = DashClient(url).get("/healthz").json()
    assert health["status"] == "ok" and health["store"]["inode"] == os.stat(path).st_ino


# --- missing or corrupt, then good again --------------------------------------------------------


def corrupt(path: str, how: str, good: str) -> None:
    staging = path + ".bad"
    if how == "garbage":
        with open(staging, "wb") as handle:
            handle.write(b"this is not a store\n" * 500)
    elif how == "truncated":
        with open(good, "rb") as source, open(staging, "wb") as handle:
            handle.write(source.read(12288))
    else:  # empty
        open(staging, "wb").close()
    os.replace(staging, path)


def unavailable_log_lines(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "data.service" and "store unavailable" in r.getMessage()
    ]


def assert_unavailable(client, app) -> None:
    index = client.open("/")
    assert index.status_code == 503 and 'id="react-entry-point"' in index.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 200
    page = client.post_callback(routing_body(app, "/", ""))
    assert page.status_code == 200
    assert "The data store is not available" in page.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_data(as_text=True) == "store unavailable\n"


def assert_available(client, app, records: int) -> None:
    assert client.open("/").status_code == 200
    assert shown_count(client.get("/_dash-layout").get_data(as_text=True)) == records
    page = client.post_callback(routing_body(app, "/", ""))
    assert page.status_code == 200 and "The data store is not available" not in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("how", ["missing", "garbage", "truncated", "empty"])
def test_an_unusable_store_is_clear_logged_once_and_recovered_from(tmp_path, stores, caplog, how):
    from app import create_app

    caplog.set_level(logging.ERROR, logger="data.service")
    path = str(tmp_path / "live.duckdb")
    if how != "missing":
        corrupt(path, how, stores[200])
    app = create_app(path)
    client = DashClient(test_client=app.server.test_client())
    for _ in range(3):
        assert_unavailable(client, app)
    lines = unavailable_log_lines(caplog)
    assert len(lines) == 1, lines
    assert (tmp_path / "live.duckdb").exists() == (how != "missing")

    replace_atomically(stores[350], path)  # a good store appears: no restart
    assert_available(client, app, 350)

    # Replaced by a broken file while serving, then by a good one again.
    corrupt(path, "garbage", stores[350])
    time.sleep(1.1)  # the file's identity is checked at most once a second
    assert_unavailable(client, app)
    replace_atomically(stores[275], path)
    time.sleep(1.1)
    assert_available(client, app, 275)
    assert len(unavailable_log_lines(caplog)) == 2  # one per distinct failure


# --- whole-release downloads kept as files ------------------------------------------------------


@pytest.fixture
def download_app(tmp_path, stores, monkeypatch):
    from app import create_app

    cache = tmp_path / "downloads"
    monkeypatch.setenv("GSD_DOWNLOAD_CACHE", str(cache))
    path = live_copy(tmp_path, stores[200])
    app = create_app(path)
    assert any(r.rule.startswith("/download/") for r in app.server.url_map.iter_rules()), "no /download route"
    return app, path, cache


def test_whole_release_downloads_are_kept_and_sent_as_files(download_app, stores):
    app, path, cache = download_app
    client = app.server.test_client()
    for kind in ("microdata.csv", "records.parquet", "codebook.md"):
        made = client.get(f"/download/{kind}")
        body = made.get_data()  # streamed to the end: now the file is complete
        kept = client.get(f"/download/{kind}")
        assert made.status_code == kept.status_code == 200
        assert kept.get_data() == body and len(body) > 0
        for header in ("Content-Type", "Content-Disposition", "Cache-Control", "X-Record-Count"):
            assert kept.headers.get(header) == made.headers.get(header), header
        assert "Content-Security-Policy" in kept.headers
        assert kept.headers["Content-Length"] == str(len(body))  # sent as a file now
    (release,) = os.listdir(cache)
    assert sorted(os.listdir(cache / release)) == [
        "codebook.md",
        "codebook.md.json",
        "microdata.csv",
        "microdata.csv.json",
        "records.parquet",
        "records.parquet.json",
    ]
    # Filtered downloads are made each time; odd kinds are never files.
    assert client.get("/download/records.csv?gender=Man").status_code == 200
    assert client.get("/download/..%2frecords.csv").status_code in (400, 404)
    assert sorted(os.listdir(cache / release))[0] == "codebook.md" and len(os.listdir(cache / release)) == 6

    replace_atomically(stores[350], path)  # a new release: new files, the old ones removed
    time.sleep(1.1)
    fresh = client.get("/download/microdata.csv")
    assert fresh.status_code == 200 and fresh.headers["X-Record-Count"] == "350"
    assert release not in os.listdir(cache) and len(os.listdir(cache)) == 1


def test_an_interrupted_download_leaves_no_file(download_app):
    app, _, cache = download_app
    response = app.server.test_client().get("/download/microdata.csv", buffered=False)
    first = next(iter(response.response))
    assert first
    response.close()
    leftovers = [f for _, _, files in os.walk(cache) for f in files]
    assert leftovers == []


def test_an_unwritable_download_cache_only_costs_time(tmp_path, stores, monkeypatch, caplog):
    from app import create_app

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GSD_DOWNLOAD_CACHE", str(blocker / "downloads"))
    caplog.set_level(logging.WARNING, logger="gsd.downloads")
    app = create_app(live_copy(tmp_path, stores[200]))
    client = app.server.test_client()
    bodies = [client.get("/download/microdata.csv").get_data() for _ in range(2)]
    assert bodies[0] == bodies[1] and bodies[0]
    assert len([r for r in caplog.records if r.name == "gsd.downloads"]) == 1
