"""The frame around every page: header with navigation and the release's identity, footer.
What they say about the release (title, publisher, credit, licence) is only what the release
itself states (`release_texts`): no publisher is named unless the release names it."""
from __future__ import annotations

from dash import dcc, html

from components import ids
from data.release_meta import release_texts


def release_identity(release: dict | None):
    """Title (or name), publisher, version and date, ε, δ and record counts of the release; a
    badge when it is demonstration data."""
    if not release:
        return html.Span("No store loaded", className="release-name")
    texts = release_texts(release)
    parts = [html.Span(texts["heading"], className="release-name")]
    if texts["subtitle"]:
        parts.append(html.Span(texts["subtitle"], className="release-subtitle"))
    if release.get("is_demonstration"):
        parts.append(html.Span("Demonstration data", className="badge badge-demo",
                               title="Stand-in records made by a generator, not real people"))
    facts = []
    if release.get("epsilon") is not None:
        facts.append(f"ε = {release['epsilon']:g}")
    if release.get("delta") is not None:
        facts.append(f"δ = {release['delta']:.2g}")
    facts.append(f"{release['synthetic_record_count']:,} synthetic records")
    if release.get("protected_record_count") is not None:
        facts.append(f"{release['protected_record_count']:,} protected record count")
    parts.append(html.Span(" · ".join(facts), className="release-facts"))
    return parts


def header(pages, release: dict | None):
    return html.Header(className="site-header", children=[
        html.A("Skip to content", href="#" + ids.PAGE, className="skip-link"),
        html.Div(className="brand", children=[
            html.A("GSD Explorer", href="/", className="brand-name"),
            html.Div(release_identity(release), className="release-identity"),
        ]),
        html.Nav(className="main-nav", **{"aria-label": "Pages"}, children=[
            dcc.Link(page.name, href=page.path, className="nav-link", id={"type": ids.NAV_LINK, "path": page.path})
            for page in pages
        ]),
    ])


def source_line(release: dict | None) -> list:
    """The footer's credit: how to cite the release or who publishes it, its address and licence
    (each only when the release states it), then the links to About and Downloads."""
    texts = release_texts(release) if release else {}
    parts: list = [texts.get("credit"),
                   html.A("Published release", href=texts["source_url"], rel="noopener noreferrer")
                   if texts.get("source_url") else None,
                   f"Licence: {texts['licence']}" if texts.get("licence") else None,
                   dcc.Link("About the data", href="/about"), dcc.Link("Downloads", href="/downloads")]
    out: list = []
    for part in (p for p in parts if p is not None):
        out += [" · ", part] if out else [part]
    return out


def footer(release: dict | None):
    demo = bool(release and release.get("is_demonstration"))
    return html.Footer(className="site-footer", children=[
        html.P("Counts on these pages come from synthetic records, which are statistical stand-ins, "
               "not people; protected counts are the release's differentially private aggregates."
               + (" This is demonstration data, generated to resemble the published release." if demo else "")),
        html.P(source_line(release), className="release-credit"),
    ])


def layout(pages, release: dict | None):
    return html.Div(className="app", children=[
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        header(pages, release),
        html.Div(id=ids.NOTICE, role="status", className="notice-area"),
        html.Main(id=ids.PAGE, tabIndex="-1", className="page"),
        footer(release),
    ])


def store_unavailable(message: str):
    return html.Section(className="store-missing", role="alert", children=[
        html.H1("The data store is not available"),
        html.P(message),
        html.P("The page will work again as soon as a valid store is in place; "
               "the data owner can rebuild it with `python -m synth_engine build`."),
    ])
