"""Overview page: the release's headline figures."""
from __future__ import annotations

from dash import html


def headline(label: str, value: str, note: str = ""):
    return html.Div(className="headline", children=[
        html.Div(value, className="headline-value"),
        html.Div(label, className="headline-label"),
        html.Div(note, className="headline-note") if note else None,
    ])


def layout(service, query: dict):
    store = service.store()
    release = store.release
    flt = store.filter({})
    figures = [headline("synthetic records", f"{release['synthetic_record_count']:,}")]
    if release.get("protected_record_count") is not None:
        figures.append(headline("protected record count", f"{release['protected_record_count']:,}",
                                "differentially private"))
    return html.Div([
        html.H1("Overview"),
        html.Div(figures, className="headlines"),
        html.P(f"{store.count(flt):,} records in the store."),
    ])
