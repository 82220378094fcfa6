"""Whole-release downloads kept as files.

A GET of /download/<kind> without a query string (the microdata, all records, the protected
aggregates, the codebook, the data card) is the same file for every visitor until the store is
replaced, yet takes up to a second of CPU to produce, which also makes it a cheap way to keep a
server busy. The first answer is streamed to the visitor and, as it goes, into
GSD_DOWNLOAD_CACHE/<release>/<kind> (var/cache/downloads by default); later requests are sent
that file (sendfile under gunicorn), with the headers the route gave it. Filtered downloads
(with a query string) are produced each time. GSD_DOWNLOAD_CACHE=off turns this off.

A file only becomes visible once complete (written to a temporary name, then renamed); an
interrupted download leaves nothing. Files of other releases are removed when a new release's
folder is made. If the folder cannot be written, downloads are served as if there were no cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile

from flask import g, request, send_file
from werkzeug.wsgi import ClosingIterator

from data.store import StoreError

log = logging.getLogger("gsd.downloads")

PREFIX = "/download/"
KIND = re.compile(r"^[a-z]+\.[a-z]+$")
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Cache-Control", "X-Record-Count")


def _release_key(store) -> str:
    return hashlib.sha256(repr(store.release_identity).encode()).hexdigest()[:24]


def _tee(chunks, folder: str, kind: str, meta: dict, on_error):
    """Yield `chunks`, writing them to folder/kind; the file (and its headers) appear only once
    every chunk has been written."""
    final = os.path.join(folder, kind)
    partial, out = None, None
    try:
        try:
            handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{kind}.", suffix=".part")
            out = os.fdopen(handle, "wb")
        except OSError as err:
            on_error(err)
        for chunk in chunks:
            if out is not None:
                try:
                    out.write(chunk)
                except OSError as err:
                    out.close()
                    out = None
                    on_error(err)
            yield chunk
        if out is not None:
            out.close()
            out = None
            with open(partial + ".json", "w") as handle:
                json.dump(meta, handle)
            os.replace(partial, final)
            os.replace(partial + ".json", final + ".json")
    except OSError as err:
        on_error(err)
    finally:
        # `chunks` itself is closed by the response (install: ClosingIterator), iterated or not.
        if out is not None:
            out.close()
        for leftover in (partial, partial and partial + ".json"):
            if leftover:
                try:
                    os.unlink(leftover)
                except OSError:
                    pass


def install(app) -> None:
    server = app.server
    root = os.environ.get(
        "GSD_DOWNLOAD_CACHE",
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var", "cache", "downloads"),
    )
    if root.lower() in ("", "off", "0") or not any(
        rule.rule.startswith(PREFIX) for rule in server.url_map.iter_rules()
    ):
        return
    service = server.config["GSD_SERVICE"]
    warned = []

    def failed(err: OSError) -> None:
        if not warned:
            warned.append(True)
            log.warning("download cache not written (%s); downloads are produced each time", err)

    def target():
        """(folder, kind) for a cacheable request, else None; worked out once per request (the
        before- and after-request hooks both ask)."""
        if "gsd_download_target" not in g:
            g.gsd_download_target = _target()
        return g.gsd_download_target

    def _target():
        if request.method not in ("GET", "HEAD") or request.query_string or not request.path.startswith(PREFIX):
            return None
        kind = request.path[len(PREFIX) :]
        if not KIND.match(kind):
            return None
        try:
            return os.path.join(root, _release_key(service.store())), kind
        except StoreError:
            return None

    @server.before_request
    def _send_kept_file():
        found = target()
        if found is None:
            return None
        folder, kind = found
        path = os.path.join(folder, kind)
        try:
            with open(path + ".json") as handle:
                meta = json.load(handle)
            response = send_file(path, mimetype=meta.get("Content-Type"), conditional=False, etag=False)
        except (OSError, ValueError):
            return None
        for name, value in meta.items():
            response.headers[name] = value
        g.gsd_download_kept = True
        return response

    @server.after_request
    def _keep_file(response):
        if response.status_code != 200 or g.get("gsd_download_kept"):
            return response
        found = target()
        if found is None:
            return response
        folder, kind = found
        if not os.path.isdir(folder):
            try:
                os.makedirs(folder, exist_ok=True)
                for other in os.listdir(root):  # files of earlier releases
                    if other != os.path.basename(folder):
                        shutil.rmtree(os.path.join(root, other), ignore_errors=True)
            except OSError as err:
                failed(err)
                return response
        meta = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        chunks = response.response
        # Closed even if never iterated (a HEAD request): the route's stream holds a cursor.
        response.response = ClosingIterator(
            _tee(chunks, folder, kind, meta, failed), [getattr(chunks, "close", lambda: None)]
        )
        return response
