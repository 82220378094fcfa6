"""Downloads page: the filter sync, the row count and links, and the streaming file route
`/download/<kind>` (records under a filter, the whole release's files)."""
from __future__ import annotations

from dash import Input, Output
from flask import Response, request

from callbacks import filters as filter_sync
from components import downloads, filters, ids
from components.url_state import MAX_VALUES_PER_KEY, NOT_RECORDED_TOKEN, clip
from data import exports
from data.store import FilterError, StoreError

MAX_PARAMETERS = 2000


class BadDownload(ValueError):
    """A download request that cannot be served; its message is shown as is."""


def links(service, mapping: dict | None, columns: list[str] | None):
    store = service.store()
    names = store.codebook.names
    flt = filters.current_filter(service, mapping)
    chosen = [n for n in names if n in set(filters.text_choices(columns))]
    return downloads.record_links(service.count(flt), flt.as_dict(), chosen, names)


def parse_request(store, kind: str, args) -> tuple[dict, list[str] | None]:
    """(filter mapping, columns or None for all) of a download request; BadDownload otherwise."""
    if kind not in downloads.KINDS:
        raise BadDownload("Unknown download.")
    keys = list(args.keys())
    if sum(len(args.getlist(k)) for k in keys) > MAX_PARAMETERS:
        raise BadDownload("Too many parameters.")
    if not kind.startswith("records."):
        if keys:
            raise BadDownload("This download takes no parameters.")
        return {}, None
    mapping: dict[str, list[str | None]] = {}
    columns = None
    for key in keys:
        values = args.getlist(key)
        if key == downloads.COLUMNS_KEY:
            if len(values) > len(store.codebook) or len(set(values)) != len(values):
                raise BadDownload("The column list is too long or names a column twice.")
            unknown = [v for v in values if v not in store.codebook]
            if unknown:
                raise BadDownload(f"Unknown column: {clip(unknown[0], 60)}.")
            columns = values
            continue
        if key not in store.codebook:
            raise BadDownload(f"Unknown filter: {clip(key, 60)}.")
        if len(values) > MAX_VALUES_PER_KEY:
            raise BadDownload("Too many values for one filter.")
        mapping[key] = [None if v == NOT_RECORDED_TOKEN else v for v in values]
    try:
        store.filter(mapping)
    except FilterError as err:
        raise BadDownload(f"Bad filter: {clip(str(err), 120)}.") from None
    if columns is not None and not columns:
        raise BadDownload("Choose at least one column.")
    return mapping, columns


def _records(frame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _plain(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def serve(service, kind: str, args) -> Response:
    """The response for GET /download/<kind>?<args>: a streamed file, or a short plain error."""
    try:
        store = service.store()
    except StoreError:
        return _plain("The data store is not available right now.", 503)
    try:
        mapping, columns = parse_request(store, kind, args)
    except BadDownload as err:
        return _plain(str(err), 400)
    what, media_type = downloads.KINDS[kind]
    extension = kind.rsplit(".", 1)[1]
    release = store.release
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if kind.startswith(("records.", "microdata.")):
        flt = store.filter(mapping)
        names = [n for n in store.codebook.names if columns is None or n in set(columns)]
        headers["X-Record-Count"] = str(service.count(flt))
        if flt:
            what = "records-filtered"
        writer = exports.csv_stream if extension == "csv" else exports.parquet_stream
        body = writer(store.record_batches(flt, names), names)
    elif kind == "aggregates.tsv":
        if not release.get("has_aggregates"):
            return _plain("This release has no protected aggregates.", 404)
        body = exports.aggregates_stream(release["protected_record_count"], store.aggregate_rows())
    elif kind == "codebook.csv":
        body = [exports.codebook_csv(store.codebook).encode("utf-8")]
    elif kind == "codebook.md":
        body = [exports.codebook_markdown(store.codebook, release).encode("utf-8")]
    else:
        body = [exports.data_card(release, _records(store.release_lengths), _records(service.quality()),
                                  store.codebook).encode("utf-8")]
    headers["Content-Disposition"] = f'attachment; filename="{exports.filename(release, what, extension)}"'
    return Response(body, headers=headers, content_type=media_type)


def register(app, service) -> None:
    filter_sync.register(app, service, downloads.PAGE, downloads.PATH)
    app.callback(Output(ids.DOWNLOAD_LINKS, "children"), Input(filters.state_id(downloads.PAGE), "data"),
                 Input(ids.DOWNLOAD_COLUMNS, "value"), prevent_initial_call=True)(
        lambda mapping, columns: links(service, mapping, columns))
    app.server.add_url_rule("/download/<path:kind>", "gsd_download",
                            lambda kind: serve(service, kind, request.args), methods=["GET"])
