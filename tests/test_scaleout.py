"""Scale-out: app instances (gunicorn, several workers) sharing one Redis cache, each reading its
own read-only copy of the store, as hosts behind a load balancer do; no sticky sessions."""

from __future__ import annotations

import logging
import os
import shutil
import time

import pytest
import redis

from ops_support import DashClient, free_port, make_demo_store, routing_body, start_gunicorn, start_redis

PREFIX = "gsd-explorer-test:"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    port = free_port()
    server = start_redis(port, str(tmp_path_factory.mktemp("redis") / "redis.log"))
    yield port
    server.stop()


@pytest.fixture(scope="module")
def store_copies(tmp_path_factory):
    """One release, copied to two 'hosts': same content, different files (inodes)."""
    folder = tmp_path_factory.mktemp("hosts")
    original = make_demo_store(folder / "release.duckdb", rows=2000, seed=9, name="Scale-out release")
    copies = []
    for host in ("a", "b"):
        os.makedirs(folder / host)
        copies.append(shutil.copy2(original, folder / host / "gsd.duckdb"))
        os.chmod(copies[-1], 0o444)  # served read-only
    return copies


def cache_keys(client: redis.Redis) -> set[bytes]:
    return set(client.scan_iter(match=PREFIX + "*"))


def hits(client: redis.Redis) -> int:
    return int(client.info("stats")["keyspace_hits"])


def test_two_instances_share_cached_entries_and_sessions(tmp_path, redis_server, store_copies):
    from app import create_app

    env = {
        "GSD_CACHE": "redis",
        "GSD_REDIS_URL": f"redis://127.0.0.1:{redis_server}/0",
        "GSD_CACHE_PREFIX": PREFIX,
        "GSD_SECRET_KEY": "one-key-for-every-host",
        "GSD_DOWNLOAD_CACHE": str(tmp_path / "downloads"),
    }
    ports = [free_port(), free_port()]
    servers = [
        start_gunicorn(ports[0], {**env, "GSD_STORE": store_copies[0]}, str(tmp_path / "a.log"), workers=2),
        start_gunicorn(ports[1], {**env, "GSD_STORE": store_copies[1]}, str(tmp_path / "b.log"), workers=1),
    ]
    rc = redis.Redis(host="127.0.0.1", port=redis_server)
    rc.flushdb()
    bodies_app = create_app(store_copies[0])
    calls = [
        routing_body(bodies_app, path, search)
        for path, search in [("/", ""), ("/", "?gender=Woman"), ("/explore", "?attribute=ageBroad"), ("/downloads", "")]
    ]
    try:
        first = DashClient(f"http://127.0.0.1:{ports[0]}")
        assert first.open("/").status_code == 200
        answers_a = [first.post_callback(body) for body in calls]
        assert [r.status_code for r in answers_a] == [200] * len(calls)
        keys = cache_keys(rc)
        assert keys, "instance A cached nothing in Redis"
        hits_before = hits(rc)

        # Instance B: another 'host', its own copy of the store, the same Redis. The session
        # (CSRF cookie) issued by A is accepted by B: no sticky sessions needed.
        second = DashClient(f"http://127.0.0.1:{ports[1]}")
        second.session.cookies.update(first.session.cookies)
        second.token = first.token
        answers_b = [second.post_callback(body) for body in calls]
        assert [r.status_code for r in answers_b] == [200] * len(calls)
        assert [r.json() for r in answers_b] == [r.json() for r in answers_a]
        assert cache_keys(rc) == keys, "B computed entries A had already cached"
        # A kept one answer per call (serving/answers.py) beside its query results; B took
        # each of its answers from there.
        answers = {k for k in keys if k.startswith((PREFIX + "gsd-answer:").encode())}
        assert len(answers) == len(calls)
        assert hits(rc) - hits_before >= len(answers)

        health = [DashClient(f"http://127.0.0.1:{p}").get("/healthz").json() for p in ports]
        assert health[0]["release"] == health[1]["release"]  # the same release on both hosts
        assert health[0]["store"]["inode"] != health[1]["store"]["inode"]  # in separate files
    finally:
        for server in servers:
            server.stop()
    for server in servers:
        assert "Traceback" not in server.log()


def test_an_unreachable_redis_is_a_cache_miss_not_an_error(tmp_path, store_copies, caplog, monkeypatch):
    from app import create_app
    from serving import cache as shared_cache

    monkeypatch.setattr(shared_cache, "RETRY_SECONDS", 0.2)
    port = free_port()  # nothing listens here yet
    monkeypatch.setenv("GSD_CACHE", "redis")
    monkeypatch.setenv("GSD_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv("GSD_CACHE_PREFIX", PREFIX)
    caplog.set_level(logging.WARNING, logger="gsd.cache")
    app = create_app(store_copies[0])
    client = DashClient(test_client=app.server.test_client())
    client.open("/")
    body = routing_body(app, "/", "")
    started = time.monotonic()
    for _ in range(5):
        assert client.post_callback(body).status_code == 200
    assert time.monotonic() - started < 5
    assert [r.getMessage() for r in caplog.records].count("cache available again") == 0
    assert sum("cache unavailable" in r.getMessage() for r in caplog.records) == 1

    server = start_redis(port, str(tmp_path / "late-redis.log"))  # Redis comes (back)
    try:
        time.sleep(0.3)
        assert client.post_callback(body).status_code == 200
        assert client.post_callback(body).status_code == 200
        assert any("cache available again" in r.getMessage() for r in caplog.records)
        assert cache_keys(redis.Redis(host="127.0.0.1", port=port))
    finally:
        server.stop()


# --- the load script itself --------------------------------------------------------------------


def test_the_load_script_runs_sessions_without_errors(store_copies, tmp_path):
    import json
    import subprocess
    import sys

    from ops_support import ROOT

    script = [sys.executable, "-m", "bench.load"]  # run from the repository root, as README says
    done = subprocess.run(
        [
            *script,
            "--serve",
            store_copies[0],
            "--workers",
            "1",
            "--clients",
            "3",
            "--duration",
            "6",
            "--json",
            "--server-log",
            str(tmp_path / "server.log"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "GSD_DOWNLOAD_CACHE": str(tmp_path / "downloads")},
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["errors"] == 0, report["error_samples"]
    assert {"page", "layout", "dependencies", "callback"} <= set(report["by_kind"])
    assert report["requests"] > 20 and report["latency_ms"]["p95"] is not None

    refused = subprocess.run(
        [*script, "--url", "http://192.0.2.1:8050", "--clients", "1", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert refused.returncode == 2 and "loopback" in refused.stderr
