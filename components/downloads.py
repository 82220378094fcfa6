"""Downloads page: the records under the current filter (columns chosen, row count first), and
the whole release: microdata, protected aggregates, codebook and data card."""
from __future__ import annotations

from dash import dcc, get_relative_path, html

from analysis.address import Query, encode
from analysis.filter_controls import controls, from_query
from components import filters, ids
from data.store import Filter

PAGE = "downloads"
PATH = "/downloads"
KINDS = {  # kind -> (what, media type); the files themselves are served by callbacks/downloads.py
    "records.csv": ("records", "text/csv; charset=utf-8"),
    "records.parquet": ("records", "application/vnd.apache.parquet"),
    "microdata.csv": ("microdata", "text/csv; charset=utf-8"),
    "microdata.parquet": ("microdata", "application/vnd.apache.parquet"),
    "aggregates.tsv": ("protected-aggregates", "text/tab-separated-values; charset=utf-8"),
    "codebook.csv": ("codebook", "text/csv; charset=utf-8"),
    "codebook.md": ("codebook", "text/markdown; charset=utf-8"),
    "datapackage.json": ("datapackage", "application/json"),
    "datacard.json": ("data-card", "application/json"),
}
COLUMNS_KEY = "columns"


def download_url(kind: str, flt: Filter | None = None, columns: list[str] | None = None) -> str:
    options = {COLUMNS_KEY: columns} if columns is not None else None
    return get_relative_path(f"/download/{kind}") + encode(flt or Filter(), options)


def record_links(count: int, flt: Filter, columns: list[str], all_columns: list[str]):
    """The row count first, then the two formats of the matching records."""
    chosen = None if list(columns) == list(all_columns) else list(columns)
    if not columns:
        return html.P("Choose at least one column to download.", className="download-count", role="status")
    noun = "record matches" if count == 1 else "records match"
    return html.Div([
        html.P([html.Strong(f"{count:,}"), f" {noun} the filter", html.Span(f" · {len(columns)} of "
               f"{len(all_columns)} columns", className="muted")], className="download-count",
               id=ids.DOWNLOAD_COUNT, **{"data-count": str(count)}),
        html.Ul(className="download-list", children=[
            html.Li(html.A(f"CSV ({count:,} rows)", href=download_url("records.csv", flt, chosen),
                           download="", className="download-link")),
            html.Li(html.A(f"Parquet ({count:,} rows)", href=download_url("records.parquet", flt, chosen),
                           download="", className="download-link")),
        ]),
    ])


def _file(label: str, kind: str, note: str):
    return html.Li([html.A(label, href=download_url(kind), download="", className="download-link"),
                    html.Span(" — " + note, className="muted")])


def layout(service, search: Query):
    store = service.store()
    release = store.release
    codebook = store.codebook
    values, mapping, _ = from_query(codebook, controls(codebook), search)
    names = codebook.names
    flt = store.filter(mapping)
    count = service.count(flt)
    whole = [
        _file("Microdata, CSV", "microdata.csv", f"all {release['synthetic_record_count']:,} synthetic records, "
              "one row each, the release's columns"),
        _file("Microdata, Parquet", "microdata.parquet", "the same, in a columnar format for analysis tools"),
    ]
    if release.get("has_aggregates"):
        whole.append(_file("Protected aggregates (TSV)", "aggregates.tsv",
                           "the differentially private counts of short combinations, in Synthetic Data "
                           "Showcase's file format"))
    whole += [
        _file("Codebook, CSV", "codebook.csv", "every attribute and value with its meaning"),
        _file("Codebook, Markdown", "codebook.md", "the same, readable as a document"),
        _file("Codebook, Data Package (JSON)", "datapackage.json",
              "the codebook and release metadata as a Frictionless descriptor; import-release --codebook reads it"),
        _file("Data card (JSON)", "datacard.json", "release parameters, quality metrics and provenance"),
    ]
    return html.Div(className="downloads", children=[
        html.H1("Downloads"),
        html.P("Files are named after the release" + (" and marked as demonstration data" if release.get(
            "is_demonstration") else "") + ". Records are synthetic: stand-ins, not people.", className="lead"),
        html.Section(className="panel", **{"aria-labelledby": "dl-filtered"}, children=[
            html.H2("Records matching the filter", id="dl-filtered"),
            filters.panel(PAGE, PATH, codebook, values, mapping),
            html.Div(record_links(count, flt, names, names), id=ids.DOWNLOAD_LINKS, **{"aria-live": "polite"}),
            html.Details(className="download-columns", children=[
                html.Summary("Choose columns"),
                html.Div(role="group", **{"aria-label": "Columns to download"}, children=[
                    dcc.Checklist(id=ids.DOWNLOAD_COLUMNS, value=names, className="column-list",
                                  options=[{"label": f"{a.label} ({a.name})", "value": a.name} for a in codebook]),
                ]),
            ]),
        ]),
        html.Section(className="panel", **{"aria-labelledby": "dl-whole"}, children=[
            html.H2("The whole release", id="dl-whole"),
            html.Ul(whole, className="download-list"),
        ]),
    ])
