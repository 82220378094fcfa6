"""GET /healthz for load balancers and monitors.

200 with the identity of the store this worker serves when it opens: the file's (inode, mtime,
size) on this host, and the release's name and build time, equal on every host serving the same
release; 503 with a one-line message otherwise (the reason is in the log, not in the answer).
Dash's own `health_endpoint` answers "OK" whatever the state of the data, so it stays off.

While the store is unavailable, pages (the HTML index) are also answered 503, with the page
itself: the renderer then shows the layout's "store not available" message, and monitors or
crawlers see the outage. Dash's layout and callback answers stay 200, or the renderer would
drop the message.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from data.store import StoreError
from serving.guard import plain

PATH = "/healthz"


def install(app) -> None:
    service = app.server.config["GSD_SERVICE"]

    def healthz():
        try:
            store = service.store()
        except StoreError:
            return plain("store unavailable", 503, headers={"Retry-After": "5"})
        inode, mtime_ns, size = store.identity
        release = store.release
        return jsonify(
            status="ok",
            release={"name": release.get("name"), "built_at": str(release.get("built_at"))},
            store={"inode": inode, "mtime_ns": mtime_ns, "size": size},
        )

    app.server.add_url_rule(PATH, endpoint="gsd_healthz", view_func=healthz, methods=["GET", "HEAD"])

    @app.server.after_request
    def _page_status(response: Response) -> Response:
        if response.status_code == 200 and response.mimetype == "text/html" and request.method in ("GET", "HEAD"):
            try:
                service.store()
            except StoreError:
                response.status_code = 503
                response.headers["Retry-After"] = "5"
        return response
