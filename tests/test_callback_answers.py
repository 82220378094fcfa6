"""Callback answers kept in the cache (serving/answers.py): a question asked again is answered
without running the callback, with the same bytes; a new release, another question or a refused
request is never answered from what was kept."""

from __future__ import annotations

import time

import pytest

from ops_support import DashClient, make_demo_store, replace_atomically, routing_body


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(app, client, store path, calls): `calls` lists the page-rendering callback's runs."""
    from app import create_app

    store = make_demo_store(tmp_path / "store.duckdb", rows=800, seed=4, name="First release")
    monkeypatch.setenv("GSD_DOWNLOAD_CACHE", str(tmp_path / "downloads"))
    app = create_app(store)
    key = routing_body(app, "/", "")["output"]
    original = app.callback_map[key]["callback"]
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    app.callback_map[key]["callback"] = counted
    client = DashClient(test_client=app.server.test_client())
    assert client.open("/").status_code == 200
    return app, client, store, calls


def test_the_same_question_is_answered_once(served):
    app, client, _, calls = served
    body = routing_body(app, "/", "?gender=Woman")
    first = client.post_callback(body)
    again = client.post_callback(body)
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.mimetype == "application/json"
    assert "Content-Security-Policy" in again.headers  # the kept answer passes the same hooks
    assert len(calls) == 1

    other = client.post_callback(routing_body(app, "/", "?gender=Man"))
    assert other.status_code == 200 and other.get_data() != first.get_data()
    assert len(calls) == 2


def test_a_new_release_is_never_answered_from_the_old_one(served, tmp_path):
    app, client, store, calls = served
    body = routing_body(app, "/", "")
    first = client.post_callback(body)
    newer = make_demo_store(tmp_path / "newer.duckdb", rows=900, seed=5, name="Second release")
    replace_atomically(newer, store)
    time.sleep(1.2)  # the service looks at the file at most once a second
    second = client.post_callback(body)
    assert second.status_code == 200 and second.get_data() != first.get_data()  # 900 records, not 800
    assert len(calls) == 2


def test_refused_requests_are_neither_looked_up_nor_kept(served):
    app, client, _, calls = served
    cache = app.server.config["GSD_SERVICE"].cache
    body = routing_body(app, "/", "")
    body["inputs"][0]["value"] = {"not": "a pathname"}
    for _ in range(2):
        assert client.post_callback(body).status_code == 400
        assert client.post_callback(routing_body(app, "/", ""), token=False).status_code == 403
    assert calls == []
    assert not [k for k in cache.cache._cache if str(k).startswith("gsd-answer:")]
