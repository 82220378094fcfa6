"""Shared fixtures: a live server on loopback, Debian's chromium for Playwright, and the app on
a module's store with a client holding its CSRF token."""

from __future__ import annotations

import os
import threading

import pytest

CHROMIUM = os.environ.get("GSD_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's chromium, never a downloaded browser; no background traffic to other hosts.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


class LiveServer:
    """The app served by werkzeug in a thread on 127.0.0.1 and a free port."""

    def __init__(self, wsgi_app):
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def serve():
    """serve(app) -> base URL; every server started is stopped after the test."""
    servers = []

    def start(app):
        server = LiveServer(app.server if hasattr(app, "server") else app)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


def watch_page(page, base: str, problems: list[str]):
    """`page`, with every console error, page error and request to a host other than `base`
    noted in `problems` (the browser tests assert it stays empty)."""
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text[:300]}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith((base + "/", "data:", "blob:"))
            else problems.append(f"request to another host: {r.url}")
        ),
    )
    page.set_default_timeout(15_000)
    return page


@pytest.fixture(scope="module")
def app(store_path, tmp_path_factory):
    """The app on the module's `store_path`, its whole-release downloads kept in a folder of its own."""
    from app import create_app

    with pytest.MonkeyPatch.context() as env:
        env.setenv("GSD_DOWNLOAD_CACHE", str(tmp_path_factory.mktemp("downloads")))
        return create_app(store_path)


@pytest.fixture
def client(app):
    """A client of `app` that has opened the index page (so holds the CSRF token)."""
    from ops_support import DashClient

    client = DashClient(test_client=app.server.test_client())
    assert client.open("/").status_code == 200
    return client
