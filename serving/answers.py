"""Answers to Dash callbacks kept in the app's cache: a question asked again costs a look-up.

Every visitor opening the Overview asks the same callbacks the same questions, and visitors
choosing the same filters ask the same again. A callback's answer depends only on what the
renderer sends (outputs, inputs, state and what changed, all in the request body) and on the
release served, so the key is the release's identity and a hash of the body; a rebuilt store
never gets an old answer. Answers are kept in the cache the queries use (per worker, or shared
in Redis by every worker and host), packed with zlib's fastest level: a 60 kB answer takes about
12 kB there, for a tenth of a millisecond each way.

Only well-formed calls reach this point (serving/guard.py checks them first), and only
successful answers (200, or 204 when nothing changes) are kept.
"""

from __future__ import annotations

import hashlib
import zlib

from flask import Response, g, request

from data.store import StoreError

KEY_PREFIX = "gsd-answer:"
KEPT_STATUSES = (200, 204)


def answer_key(release_identity, body: bytes) -> str:
    digest = hashlib.sha256(repr(release_identity).encode("utf-8") + b"\0" + body).hexdigest()
    return KEY_PREFIX + digest


def install(app) -> None:
    server = app.server
    service = server.config["GSD_SERVICE"]
    cache = service.cache
    if cache is None:
        return
    path = app.config.routes_pathname_prefix + "_dash-update-component"

    @server.before_request
    def _known_answer():
        if request.method != "POST" or request.path != path:
            return None
        try:
            release = service.store().release_identity
        except StoreError:
            return None  # Dash's own answer then says the store is unavailable
        key = answer_key(release, request.get_data())
        kept = cache.get(key)
        if kept is None:
            g.gsd_answer_key = key
            return None
        status, packed = kept
        return Response(zlib.decompress(packed), status=status, mimetype="application/json")

    @server.after_request
    def _keep_answer(response: Response) -> Response:
        key = g.pop("gsd_answer_key", None)
        if key is not None and response.status_code in KEPT_STATUSES and not response.is_streamed:
            cache.set(key, (response.status_code, zlib.compress(response.get_data(), 1)))
        return response
