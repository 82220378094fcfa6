"""GSD Explorer: the dashboard. `create_app(store_path)` builds it; `server` is its WSGI app.

Run `python app.py` to serve on http://127.0.0.1:8050 (see README.md for the store it reads).
"""

from __future__ import annotations

import os

from dash import Dash
from flask_caching import Cache

import callbacks
import serving
from components import shell
from components.pages import all_pages
from data.service import DataService
from data.store import StoreError

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_STORE = os.path.join(HERE, "var", "gsd-demo.duckdb")


def cache_config() -> dict:
    """flask-caching backend from the environment: simple (default), filesystem or redis."""
    kind = os.environ.get("GSD_CACHE", "simple")
    timeout = int(os.environ.get("GSD_CACHE_TIMEOUT", "600"))
    if kind == "filesystem":
        return {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DEFAULT_TIMEOUT": timeout,
            "CACHE_DIR": os.environ.get("GSD_CACHE_DIR", os.path.join(HERE, "var", "cache")),
        }
    if kind == "redis":
        # Shared by workers and hosts; an unreachable Redis is a cache miss (serving/cache.py).
        # GSD_CACHE_PREFIX separates deployments (e.g. code versions during a rolling upgrade).
        return {
            "CACHE_TYPE": "serving.cache.ResilientRedisCache",
            "CACHE_DEFAULT_TIMEOUT": timeout,
            "CACHE_REDIS_URL": os.environ.get("GSD_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "CACHE_KEY_PREFIX": os.environ.get("GSD_CACHE_PREFIX", "gsd-explorer:"),
        }
    if kind == "null":
        return {"CACHE_TYPE": "NullCache"}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": timeout, "CACHE_THRESHOLD": 5000}


def create_app(store_path: str | None = None) -> Dash:
    store_path = store_path or os.environ.get("GSD_STORE") or DEFAULT_STORE
    app = Dash(
        __name__,
        title="GSD Explorer",
        assets_folder=os.path.join(HERE, "assets"),
        serve_locally=True,
        suppress_callback_exceptions=True,
        enable_mcp=os.environ.get("GSD_ENABLE_MCP") == "1",
    )  # off unless asked for
    cache = Cache(app.server, config=cache_config())
    service = DataService(store_path, cache)
    pages = all_pages()

    def layout():
        try:
            release = service.store().release
        except StoreError:
            release = None
        return shell.layout(pages, release)

    app.layout = layout
    callbacks.register(app, service)
    app.server.config["GSD_SERVICE"] = service

    # Production serving (headers, CSP, CSRF, error responses, /healthz): see serving/. Last,
    # after every callback is registered.
    serving.install(app)
    return app


def __getattr__(name):
    # `server` is built on first use, so importing this module (tests) opens no store.
    if name == "server":
        global server
        server = create_app().server
        return server
    raise AttributeError(name)


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "8050")), debug=False)
