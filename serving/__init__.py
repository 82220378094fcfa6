"""Production serving of the dashboard: security headers and CSP, CSRF protection, short error
responses, request guards, the /healthz endpoint, whole-release downloads kept as files, callback
answers kept in the cache, compressed responses, and the shared Redis cache (serving/cache.py,
chosen in app.cache_config).

`create_app` calls `install(app)` once, last, after every page has registered its callbacks
(the CSP's script hashes come from the index page Dash renders at that moment).
"""

from __future__ import annotations

import os

from serving import answers, compression, download_cache, guard, health, language, security


def install(app) -> None:
    language.install(app)  # first: the request's language, and the renderer's hook (in the CSP)
    security.install(app)
    guard.install(app)
    health.install(app)
    download_cache.install(app)
    compression.enable(app)
    # After the guard (only well-formed calls are looked up) and after compression: Flask runs
    # the after-request hooks last registered first, so the answers kept are uncompressed.
    answers.install(app)
    if os.environ.get("GSD_DEBUG") == "1":
        # Only when asked for: Dash's dev tools, including tracebacks in error responses.
        app.logger.warning("GSD_DEBUG=1: Dash dev tools and tracebacks are on; never in production")
        app.enable_dev_tools(debug=True, dev_tools_hot_reload=False)
