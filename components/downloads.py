"""Downloads page: the records under the current filter (columns chosen, row count first), and
the whole release: microdata, protected aggregates, codebook and data card."""

from __future__ import annotations

from dash import dcc, get_relative_path, html

import i18n
from analysis.address import Query, encode
from analysis.filter_controls import controls, from_query
from components import filters, ids
from data.store import Filter
from i18n import _, ngettext
from i18n.numbers import format_count

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
    with i18n.language(i18n.DEFAULT):  # files are the release's, whatever the page's language
        return get_relative_path(f"/download/{kind}") + encode(flt or Filter(), options)


def record_links(count: int, flt: Filter, columns: list[str], all_columns: list[str]):
    """The row count first, then the two formats of the matching records."""
    chosen = None if list(columns) == list(all_columns) else list(columns)
    if not columns:
        return html.P(_("Choose at least one column to download."), className="download-count", role="status")
    noun = ngettext("record matches the filter", "records match the filter", count)
    return html.Div(
        [
            html.P(
                [
                    html.Strong(format_count(count)),
                    f" {noun}",
                    html.Span(
                        " · "
                        + ngettext(
                            "%(shown)s of %(num)s column",
                            "%(shown)s of %(num)s columns",
                            len(all_columns),
                            shown=format_count(len(columns)),
                        ),
                        className="muted",
                    ),
                ],
                className="download-count",
                id=ids.DOWNLOAD_COUNT,
                **{"data-count": str(count)},
            ),
            html.Ul(
                className="download-list",
                children=[
                    html.Li(
                        html.A(
                            ngettext("CSV (%(num)s row)", "CSV (%(num)s rows)", count),
                            href=download_url("records.csv", flt, chosen),
                            download="",
                            className="download-link",
                        )
                    ),
                    html.Li(
                        html.A(
                            ngettext("Parquet (%(num)s row)", "Parquet (%(num)s rows)", count),
                            href=download_url("records.parquet", flt, chosen),
                            download="",
                            className="download-link",
                        )
                    ),
                ],
            ),
        ]
    )


def _file(label: str, kind: str, note: str):
    return html.Li(
        [
            html.A(label, href=download_url(kind), download="", className="download-link"),
            html.Span(" — " + note, className="muted"),
        ]
    )


def _whole_release_files(release: dict) -> list:
    """One list item per file of the whole release; the aggregates only when the release has them."""
    whole = [
        _file(
            _("Microdata, CSV"),
            "microdata.csv",
            ngettext(
                "all %(num)s synthetic record, one row each, the release's columns",
                "all %(num)s synthetic records, one row each, the release's columns",
                release["synthetic_record_count"],
            ),
        ),
        _file(_("Microdata, Parquet"), "microdata.parquet", _("the same, in a columnar format for analysis tools")),
    ]
    if release.get("has_aggregates"):
        whole.append(
            _file(
                _("Protected aggregates (TSV)"),
                "aggregates.tsv",
                _("the differentially private counts of short combinations, in Synthetic Data Showcase's file format"),
            )
        )
    whole += [
        _file(_("Codebook, CSV"), "codebook.csv", _("every attribute and value with its meaning")),
        _file(_("Codebook, Markdown"), "codebook.md", _("the same, readable as a document")),
        _file(
            _("Codebook, Data Package (JSON)"),
            "datapackage.json",
            _("the codebook and release metadata as a Frictionless descriptor; import-release --codebook reads it"),
        ),
        _file(_("Data card (JSON)"), "datacard.json", _("release parameters, quality metrics and provenance")),
    ]
    return whole


def layout(service, search: Query):
    store = service.store()
    release = store.release
    codebook = store.codebook
    values, mapping, _notices = from_query(codebook, controls(codebook), search)  # the filter sync shows them
    names = codebook.names
    flt = store.filter(mapping)
    count = service.count(flt)
    whole = _whole_release_files(release)
    return html.Div(
        className="downloads",
        children=[
            html.H1(_("Downloads")),
            html.P(
                _(
                    "Files are named after the release and marked as demonstration data. Records are synthetic: "
                    "stand-ins, not people."
                )
                if release.get("is_demonstration")
                else _("Files are named after the release. Records are synthetic: stand-ins, not people."),
                className="lead",
            ),
            html.Section(
                className="panel",
                **{"aria-labelledby": "dl-filtered"},
                children=[
                    html.H2(_("Records matching the filter"), id="dl-filtered"),
                    filters.panel(PAGE, PATH, codebook, values, mapping),
                    html.Div(record_links(count, flt, names, names), id=ids.DOWNLOAD_LINKS, **{"aria-live": "polite"}),
                    html.Details(
                        className="download-columns",
                        children=[
                            html.Summary(_("Choose columns")),
                            html.Div(
                                role="group",
                                **{"aria-label": _("Columns to download")},
                                children=[
                                    dcc.Checklist(
                                        id=ids.DOWNLOAD_COLUMNS,
                                        value=names,
                                        className="column-list",
                                        options=[{"label": f"{a.label} ({a.name})", "value": a.name} for a in codebook],
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
            html.Section(
                className="panel",
                **{"aria-labelledby": "dl-whole"},
                children=[
                    html.H2(_("The whole release"), id="dl-whole"),
                    html.Ul(whole, className="download-list"),
                ],
            ),
        ],
    )
