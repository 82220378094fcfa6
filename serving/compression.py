"""Compressed responses, for visitors on slow connections, and long-lived caching of the files
whose address changes with their content.

Text responses (pages, Dash's JSON answers, scripts, styles, the map geometry) are compressed
with brotli, zstd or gzip, whichever the client prefers (flask-compress); the client's
Accept-Encoding decides, and a client that accepts none of them gets the plain bytes. Files
that do not change while the process runs (Dash's component bundles, plotly.js, the assets) are
compressed once per worker and kept in memory, one entry per file and encoding; answers are
compressed each time, at a level that costs a millisecond or two. Downloads are sent as they
are: their size is announced to the browser, and most are binary or already compact.

A repeat visit should transfer little: Dash puts a fingerprint (version and modification
time) in the address of each component bundle and a `?m=` modification time on each stylesheet
and script of the assets folder, so those are cached for a year without revalidation; the
other files keep their ETag and are revalidated (a few hundred bytes each).
"""

from __future__ import annotations

from dash.fingerprint import check_fingerprint
from flask import request
from flask_compress import Compress

ALGORITHMS = ["br", "zstd", "gzip"]
# One level per encoding serves files and answers alike. Brotli 4 packs plotly.js (4.8 MB) into
# 1.4 MB in a tenth of a second (once per worker) and a 60 kB answer into 11 kB in half a
# millisecond; brotli 5 saves another 0.1 MB on plotly.js but triples the cost of every answer.
LEVELS = {"COMPRESS_BR_LEVEL": 4, "COMPRESS_ZSTD_LEVEL": 3, "COMPRESS_LEVEL": 6}
A_YEAR = 365 * 24 * 3600
NOT_A_FILE = "-"


class FileBodies:
    """flask-compress's store of compressed bodies, holding only those of static files: their key
    is the file's path without fingerprint or query (so the store holds at most one entry per
    file and encoding however the address is varied); every other answer has the key
    NOT_A_FILE, is never stored, and so is compressed afresh."""

    def __init__(self):
        self._bodies: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._bodies)

    def get(self, key: str) -> bytes | None:
        return self._bodies.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";" + NOT_A_FILE):
            self._bodies[key] = value


def enable(app) -> None:
    server = app.server
    prefix = app.config.routes_pathname_prefix
    suites = prefix + "_dash-component-suites/"
    assets = prefix + app.config.assets_url_path.strip("/") + "/"
    downloads = prefix + "download/"
    favicon = prefix + "_favicon.ico"

    def file_key(req) -> str:
        if req.path.startswith(suites):
            return check_fingerprint(req.path)[0]
        if req.path.startswith(assets) or req.path == favicon:
            return req.path
        return NOT_A_FILE

    server.config.update(
        COMPRESS_REGISTER=False,
        COMPRESS_ALGORITHM=ALGORITHMS,
        COMPRESS_STREAMS=False,
        COMPRESS_CACHE_BACKEND=FileBodies,
        COMPRESS_CACHE_KEY=file_key,
        **LEVELS,
    )
    compress = Compress(server)
    server.extensions["gsd_compress"] = compress

    @server.after_request
    def _compress(response):
        path = request.path
        if path.startswith(downloads):
            return response
        is_file = path.startswith((suites, assets)) or path == favicon
        if is_file and response.status_code == 200 and response.is_streamed:
            # An asset is sent by Flask as a file stream; read it (at most a few hundred kB) so
            # that it is compressed once and kept, like the bundles.
            response.direct_passthrough = False
            response.make_sequence()
        if is_file and response.status_code == 200 and _unchanging(path, request.args, suites):
            response.cache_control.no_cache = None  # Flask's default for files
            response.cache_control.public = True
            response.cache_control.max_age = A_YEAR
            response.cache_control.immutable = True
        return compress.after_request(response)


def _unchanging(path: str, args, suites: str) -> bool:
    """The address names one version of the file: a fingerprinted bundle, an asset with Dash's
    `?m=` modification time, the favicon with Dash's `?v=` version."""
    if path.startswith(suites):
        return check_fingerprint(path)[1]
    return "m" in args or "v" in args
