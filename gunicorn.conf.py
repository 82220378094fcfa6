"""gunicorn settings for GSD Explorer in production: `make serve`, i.e.

    .venv/bin/gunicorn -c gunicorn.conf.py

Every setting can be changed from the environment:

    GSD_BIND         address to listen on (default 127.0.0.1:8050: only this machine; put a
                     reverse proxy or load balancer in front, see docs/production.md)
    GSD_WORKERS      worker processes (default 2 x CPU cores)
    GSD_THREADS      threads per worker (default 4)
    GSD_TIMEOUT      seconds a silent worker is given before it is restarted (default 60)
    GSD_KEEPALIVE    seconds an idle kept-alive connection stays open (default 75)
    GSD_SWITCH_INTERVAL_MS   how often a worker's threads take turns at the GIL (default 1)
    GSD_ACCESS_LOG   "-" for an access log on stdout, or a file (default: none)
    GSD_SECRET_KEY   secret signing the CSRF tokens; the same on every host (default: random,
                     shared by this server's workers, with one warning)
    GSD_STORE, GSD_CACHE, GSD_REDIS_URL, ...   read by the app itself (app.py)

Debug mode, Dash's dev tools and its MCP endpoint stay off unless GSD_DEBUG=1 /
GSD_ENABLE_MCP=1 is set explicitly.
"""

import gc
import os
import secrets
import sys

wsgi_app = "app:server"
chdir = os.path.dirname(os.path.abspath(__file__))

bind = [os.environ.get("GSD_BIND", "127.0.0.1:8050")]
workers = int(os.environ.get("GSD_WORKERS", 2 * (os.cpu_count() or 1)))
# Threads overlap a worker's waits (sockets, DuckDB releasing the GIL) without copying the app.
worker_class = "gthread"
threads = int(os.environ.get("GSD_THREADS", "4"))
timeout = int(os.environ.get("GSD_TIMEOUT", "60"))
graceful_timeout = 30
# Longer than a load balancer's idle timeout (commonly 60 s), so that the server never closes a
# kept-alive connection just as the next request arrives on it (a reset the client sees).
keepalive = int(os.environ.get("GSD_KEEPALIVE", "75"))
# Each worker opens the store itself, after the fork: DuckDB handles must not cross a fork.
preload_app = False

# Requests: gunicorn's own limits on the request line and headers, the app caps bodies.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = os.environ.get("GSD_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GSD_LOG_LEVEL", "info")
# The app's own log lines (store unavailable, unexpected errors, ...) in the same format and
# stream as gunicorn's, each line once.
logconfig_dict = {
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["error_console"],
            "propagate": False,
            "qualname": "gunicorn.error",
        },
        "gunicorn.access": {
            "level": "INFO" if accesslog else "WARNING",
            "handlers": ["console"],
            "propagate": False,
            "qualname": "gunicorn.access",
        },
    },
}
proc_name = "gsd-explorer"
# No runtime control socket (gunicornc): nothing to administer from outside the process tree.
control_socket_disable = True


def on_starting(server):
    # In the master, before any worker is forked: one key for all workers, one warning.
    if not os.environ.get("GSD_SECRET_KEY"):
        os.environ["GSD_SECRET_KEY"] = secrets.token_urlsafe(32)
        server.log.warning(
            "GSD_SECRET_KEY is not set; this server's workers share a random key "
            "(set it, the same on every host, behind a load balancer)"
        )
    if os.environ.get("GSD_DEBUG") == "1":
        server.log.warning("GSD_DEBUG=1: debug mode and Dash dev tools are on")


def post_worker_init(worker):
    # The app's long-lived objects (layout, callback map, codebook) are never garbage: moving them
    # out of the collector's view keeps collections short on the request path.
    gc.freeze()
    # A thread back from a socket or a DuckDB query waits for the GIL while another thread of
    # the worker computes; Python hands it over every 5 ms by default, and a request does several
    # such waits. Under 50 clients on the shared 2-core machine, 1 ms gave p95 1.0-1.1 s where
    # 5 ms gave 1.5-2.9 s, in alternating runs (docs/production.md).
    sys.setswitchinterval(float(os.environ.get("GSD_SWITCH_INTERVAL_MS", "1")) / 1000)
