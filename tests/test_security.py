"""Headers, Content-Security-Policy, CSRF, the secret key, production defaults, and a browser
visiting every page: no CSP violation, no request to any other origin."""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import urlsplit

import pytest

from ops_support import DashClient, assert_no_internals, free_port, make_demo_store, routing_body, start_gunicorn


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return make_demo_store(tmp_path_factory.mktemp("security") / "store.duckdb", rows=2000, seed=5)


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


# --- headers ----------------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_security_headers(app, client):
    responses = {
        "index": client.open("/"),
        "other page": client.get("/about?x=1"),
        "layout": client.get("/_dash-layout"),
        "dependencies": client.get("/_dash-dependencies"),
        "callback": client.post_callback(routing_body(app, "/", "")),
        "refused callback": client.post_callback({"output": "nope"}),
        "no csrf": client.post_callback(routing_body(app, "/", ""), token=False),
        "asset": client.get("/assets/style.css"),
        "component suite": client.get(
            re.search(r'src="([^"]*react@[^"]*)"', client.open("/").get_data(as_text=True)).group(1)
        ),
        "async chunk": client.get("/_dash-component-suites/dash/dcc/async-graph.js"),
        "unknown suite file": client.get("/_dash-component-suites/dash/../../etc/passwd"),
        "health": client.get("/healthz"),
    }
    for name, response in responses.items():
        headers = response.headers
        assert "Content-Security-Policy" in headers, name
        assert policy_of(response)["frame-ancestors"] == ["'none'"], name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert "Server" not in headers, name
        assert_no_internals(response.get_data(as_text=True))
    assert responses["unknown suite file"].status_code == 404
    assert responses["index"].headers["Cache-Control"] == "no-store"
    assert "max-age" in responses["component suite"].headers["Cache-Control"]  # fingerprinted
    assert "no-store" not in responses["async chunk"].headers.get("Cache-Control", "")  # ETag


def test_csp_allows_only_this_origin_and_the_exact_inline_scripts(app, client):
    from serving.security import inline_scripts, script_hash

    index = client.open("/")
    policy = policy_of(index)
    html = index.get_data(as_text=True)
    served_hashes = sorted(script_hash(s) for s in inline_scripts(html))
    assert served_hashes, "the index has inline scripts (the renderer start-up at least)"
    assert sorted(h for h in policy["script-src"] if h.startswith("'sha256-")) == served_hashes
    assert sorted(app.csp_hashes()) == served_hashes  # Dash's own count of its inline scripts
    assert policy["default-src"] == ["'self'"]
    assert [s for s in policy["script-src"] if not s.startswith("'sha256-")] == ["'self'"]
    for directive in ("connect-src", "font-src"):
        assert policy[directive] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert set(policy["img-src"]) == {"'self'", "data:", "blob:"}
    assert set(policy["style-src"]) == {"'self'", "'unsafe-inline'"}
    for sources in policy.values():
        assert not any(s.startswith(("http:", "https:", "*")) or s == "'unsafe-eval'" for s in sources)
    # The JSON config block is data, not script: not hashed, and without the server's Python.
    config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', html).group(1)
    assert script_hash(config) not in policy["script-src"]
    assert "python_version" not in config


# --- CSRF -------------------------------------------------------------------------------------


def test_callbacks_need_the_signed_token_in_cookie_and_header(app, client):
    from serving.security import CsrfTokens

    body = routing_body(app, "/", "")
    assert client.post_callback(body).status_code == 200
    refused = client.post_callback(body, token=False)
    assert refused.status_code == 403 and "CSRF" in refused.get_data(as_text=True)

    test_client = client.test_client

    def post(headers):
        return test_client.post("/_dash-update-component", json=body, headers=headers)

    assert post({"X-CSRFToken": client.token[:-2] + "xx"}).status_code == 403  # not the cookie
    assert post({"X-CSRFToken": client.token, "Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert post({"X-CSRFToken": client.token, "Sec-Fetch-Site": "same-site"}).status_code == 403
    assert post({"X-CSRFToken": client.token, "Sec-Fetch-Site": "same-origin"}).status_code == 200

    # A cookie the attacker planted, repeated in the header, is not signed with the app's key.
    for planted in ["abc", "abc.def", CsrfTokens("another key").issue(), ""]:
        test_client.set_cookie("_csrf_token", planted)
        assert post({"X-CSRFToken": planted}).status_code == 403, planted
    # Without a token, the index issues a fresh one.
    test_client.delete_cookie("_csrf_token")
    fresh = DashClient(test_client=test_client)
    fresh.open("/")
    assert fresh.token and fresh.post_callback(body).status_code == 200


def test_the_token_cookie_is_strict_and_readable_by_the_renderer(app):
    response = app.server.test_client().get("/")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("_csrf_token=")
    assert "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "HttpOnly" not in cookie  # the renderer copies it into the X-CSRFToken header


def test_other_unsafe_methods_need_the_token_too(client):
    for method in ("put", "delete", "patch"):
        response = getattr(client.test_client, method)("/")
        assert response.status_code == 403


# --- secret key, debug, dev tools, MCP --------------------------------------------------------


def test_secret_key_comes_from_the_environment(monkeypatch, store_path):
    from app import create_app

    monkeypatch.setenv("GSD_SECRET_KEY", "a-secret-from-the-environment")
    assert create_app(store_path).server.secret_key == "a-secret-from-the-environment"


def test_a_missing_secret_key_is_random_and_warned_about_once(monkeypatch, store_path, caplog):
    from app import create_app
    from serving import security

    monkeypatch.delenv("GSD_SECRET_KEY", raising=False)
    monkeypatch.setattr(security, "_generated_secret", None)
    caplog.set_level(logging.WARNING, logger="gsd.security")
    first, second = create_app(store_path), create_app(store_path)
    assert first.server.secret_key == second.server.secret_key  # one per process
    assert len(first.server.secret_key) >= 32
    warnings = [r for r in caplog.records if r.name == "gsd.security" and "GSD_SECRET_KEY" in r.getMessage()]
    assert len(warnings) == 1


def test_debug_dev_tools_and_mcp_are_off_by_default(app, monkeypatch):
    assert os.environ.get("GSD_DEBUG") != "1" and os.environ.get("GSD_ENABLE_MCP") != "1"
    assert not app.server.debug
    assert not app._dev_tools.ui and not app._dev_tools.serve_dev_bundles
    assert not app._enable_mcp
    assert not [r.rule for r in app.server.url_map.iter_rules() if "mcp" in r.rule.lower()]


def test_errors_are_short_and_logged(store_path, caplog):
    from app import create_app

    app = create_app(store_path)

    def explode():
        raise RuntimeError("secret internals /var/lib/something")

    app.server.add_url_rule("/explode", "explode", explode)
    caplog.set_level(logging.ERROR, logger="gsd.errors")
    response = app.server.test_client().get("/explode")
    assert response.status_code == 500
    assert response.get_data(as_text=True) == "Internal server error.\n"
    assert any("unhandled error" in r.getMessage() and r.exc_info for r in caplog.records)


# --- gunicorn ---------------------------------------------------------------------------------


def test_gunicorn_serves_the_hardened_app_without_a_version_banner(tmp_path, store_path):
    import requests

    port = free_port()
    server = start_gunicorn(port, {"GSD_STORE": store_path, "GSD_CACHE": "simple"}, str(tmp_path / "gunicorn.log"))
    try:
        index = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert index.status_code == 200
        assert index.headers["Server"] == "gunicorn"  # no version, no platform
        assert "Content-Security-Policy" in index.headers and "_csrf_token" in index.cookies
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
        assert health["status"] == "ok" and health["store"]["size"] == os.path.getsize(store_path)
        refused = requests.post(f"http://127.0.0.1:{port}/_dash-update-component", json={}, timeout=10)
        assert refused.status_code == 403
    finally:
        server.stop()
    log = server.log()
    assert "Traceback" not in log
    assert log.count("GSD_SECRET_KEY is not set") <= 1


# --- in the browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_pages_load_nothing_from_elsewhere_and_break_no_policy(app, serve, page):
    from components.pages import all_pages

    base = serve(app)
    origin = urlsplit(base)
    requests_seen, refused, console = [], [], []
    page.add_init_script(
        "window.__csp = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
        "e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));"
    )
    page.on("request", lambda request: requests_seen.append(request.url))
    page.on(
        "response", lambda response: refused.append((response.status, response.url)) if response.status >= 400 else None
    )
    page.on(
        "console", lambda message: console.append(message.text) if "Content Security Policy" in message.text else None
    )

    for path in [p.path for p in all_pages()] + ["/?gender=Woman&ageBroad=~", "/no-such-page"]:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == [], path
    # Follow the navigation as a visitor does (client-side routing).
    for link in page.locator("nav a").all():
        link.click()
        page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__csp") == []
    assert console == []
    assert refused == []
    foreign = [u for u in requests_seen if not (u.startswith(("blob:", "data:")) or urlsplit(u)[:2] == origin[:2])]
    assert foreign == [], foreign
    assert any("/_dash-update-component" in u for u in requests_seen)
