"""Downloads page: the filter sync, the row count and links, and the streaming file route
`/download/<kind>` (records under a filter, the whole release's files)."""

from __future__ import annotations

from dash import Input, Output
from flask import Response, request

import i18n
from analysis.address import LANGUAGE_KEY, AddressError, clip, decode
from analysis.filter_controls import current_filter, text_choices
from callbacks import filters as filter_sync
from components import downloads, filters, ids
from data import exports
from data.store import Filter, StoreError


class BadDownload(ValueError):
    """A download request that cannot be served; its message is shown as is."""


def links(service, mapping: dict | None, columns: list[str] | None):
    names = service.store().codebook.names
    flt = current_filter(service, mapping)
    chosen = [n for n in names if n in set(text_choices(columns))]
    return downloads.record_links(service.count(flt), flt, chosen, names)


def _columns(codebook, values) -> list[str] | None:
    """The chosen columns of a records download (None: all of them); BadDownload otherwise."""
    if values is None:
        return None
    if len(values) > len(codebook) or len(set(values)) != len(values):
        raise BadDownload("The column list is too long or names a column twice.")
    unknown = [v for v in values if v not in codebook]
    if unknown:
        raise BadDownload(f"Unknown column: {clip(unknown[0], 60)}.")
    if not values:
        raise BadDownload("Choose at least one column.")
    return list(values)


def parse_request(store, kind: str, args) -> tuple[Filter, list[str] | None]:
    """(filter, columns or None for all) of a download request, the address decoded strictly;
    BadDownload otherwise."""
    if kind not in downloads.KINDS:
        raise BadDownload("Unknown download.")
    query = args.to_dict(flat=False)
    query.pop(LANGUAGE_KEY, None)  # a shared link's language changes nothing in a file
    if query and not kind.startswith("records."):
        raise BadDownload("This download takes no parameters.")
    try:
        address = decode(query, store.codebook, option_keys=(downloads.COLUMNS_KEY,), strict=True)
    except AddressError as err:
        raise BadDownload(str(err)) from None
    columns = address.options.get(downloads.COLUMNS_KEY)
    return address.filter, _columns(store.codebook, columns)


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
        flt, columns = parse_request(store, kind, args)
    except BadDownload as err:
        return _plain(str(err), 400)
    what, media_type = downloads.KINDS[kind]
    extension = kind.rsplit(".", 1)[1]
    release = store.release
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if kind.startswith(("records.", "microdata.")):
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
    elif kind == "datapackage.json":
        body = [exports.codebook_datapackage(store.codebook, release).encode("utf-8")]
    else:
        body = [
            exports.data_card(
                release, _records(store.release_lengths), _records(service.quality()), store.codebook
            ).encode("utf-8")
        ]
    headers["Content-Disposition"] = f'attachment; filename="{exports.filename(release, what, extension)}"'
    return Response(body, headers=headers, content_type=media_type)


def register(app, service) -> None:
    filter_sync.register(app, service, downloads.PAGE, downloads.PATH)
    app.callback(
        Output(ids.DOWNLOAD_LINKS, "children"),
        Input(filters.state_id(downloads.PAGE), "data"),
        Input(ids.DOWNLOAD_COLUMNS, "value"),
        prevent_initial_call=True,
    )(lambda mapping, columns: links(service, mapping, columns))
    app.server.add_url_rule(
        "/download/<path:kind>",
        "gsd_download",
        lambda kind: serve_as_released(service, kind, request.args),
        methods=["GET"],
    )


def serve_as_released(service, kind: str, args) -> Response:
    """Files are the release's whatever the reader's language: its labels, its column names."""
    with i18n.language(i18n.DEFAULT):
        return serve(service, kind, args)
