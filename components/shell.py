"""The frame around every page: header with navigation and the release's identity, footer.
What they say about the release (title, publisher, credit, licence) is only what the release
itself states (`release_texts`): no publisher is named unless the release names it."""

from __future__ import annotations

from dash import dcc, html

import i18n
from analysis.address import with_language
from components import ids
from data.release_meta import release_texts
from i18n import _, ngettext
from i18n.numbers import format_count, format_number


def release_identity(release: dict | None):
    """Title (or name), publisher, version and date, ε, δ and record counts of the release; a
    badge when it is demonstration data."""
    if not release:
        return html.Span(_("No store loaded"), className="release-name")
    texts = release_texts(release)
    parts = [html.Span(texts["heading"], className="release-name")]
    if texts["subtitle"]:
        parts.append(html.Span(texts["subtitle"], className="release-subtitle"))
    if release.get("is_demonstration"):
        parts.append(
            html.Span(
                _("Demonstration data"),
                className="badge badge-demo",
                title=_("Stand-in records made by a generator, not real people"),
            )
        )
    facts = []
    if release.get("epsilon") is not None:
        facts.append(f"ε = {format_number(release['epsilon'], 3)}")
    if release.get("delta") is not None:
        facts.append(f"δ = {release['delta']:.2g}")
    facts.append(ngettext("%(num)s synthetic record", "%(num)s synthetic records", release["synthetic_record_count"]))
    if release.get("protected_record_count") is not None:
        facts.append(_("protected record count: %(count)s", count=format_count(release["protected_record_count"])))
    parts.append(html.Span(" · ".join(facts), className="release-facts"))
    return parts


def header(pages, release: dict | None):
    return html.Header(
        className="site-header",
        children=[
            html.A(_("Skip to content"), href="#" + ids.PAGE, className="skip-link"),
            html.Div(
                className="brand",
                children=[
                    html.A("GSD Explorer", href="/", className="brand-name"),
                    html.Div(release_identity(release), className="release-identity"),
                ],
            ),
            html.Nav(
                className="main-nav",
                **{"aria-label": _("Pages")},
                children=[
                    dcc.Link(
                        _(page.name), href=page.path, className="nav-link", id={"type": ids.NAV_LINK, "path": page.path}
                    )
                    for page in pages
                ],
            ),
            language_switcher(),
        ],
    )


def language_switcher():
    """A link per language, each named in its own language; a plain link (a full page load), so
    the whole page, its direction included, is drawn again. Their addresses follow the current
    one (callbacks/routing.py)."""
    return html.Nav(
        className="language-switcher",
        **{"aria-label": _("Language")},
        children=[
            html.A(
                i18n.ENDONYMS[code],
                href=with_language("", code),
                lang=code,
                hrefLang=code,
                id={"type": ids.LANGUAGE_LINK, "lang": code},
                className="language-link" + (" active" if code == i18n.current() else ""),
                **({"aria-current": "true"} if code == i18n.current() else {}),
            )
            for code in i18n.LANGUAGES
        ],
    )


def source_line(release: dict | None) -> list:
    """The footer's credit: how to cite the release or who publishes it, its address and licence
    (each only when the release states it), then the links to About and Downloads."""
    texts = release_texts(release) if release else {}
    parts: list = [
        texts.get("credit"),
        html.A(_("Published release"), href=texts["source_url"], rel="noopener noreferrer")
        if texts.get("source_url")
        else None,
        _("Licence: %(licence)s", licence=texts["licence"]) if texts.get("licence") else None,
        dcc.Link(_("About the data"), href="/about"),
        dcc.Link(_("Downloads"), href="/downloads"),
    ]
    out: list = []
    for part in (p for p in parts if p is not None):
        out += [" · ", part] if out else [part]
    return out


def footer(release: dict | None):
    demo = bool(release and release.get("is_demonstration"))
    return html.Footer(
        className="site-footer",
        children=[
            html.P(
                _(
                    "Counts on these pages come from synthetic records, which are statistical stand-ins, "
                    "not people; protected counts are the release's differentially private aggregates."
                )
                + (" " + _("This is demonstration data, generated to resemble the published release.") if demo else "")
            ),
            html.P(source_line(release), className="release-credit"),
        ],
    )


def layout(pages, release: dict | None):
    return html.Div(
        className="app",
        children=[
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            header(pages, release),
            html.Div(id=ids.NOTICE, role="status", className="notice-area"),
            html.Main(id=ids.PAGE, tabIndex="-1", className="page"),
            footer(release),
        ],
    )


def store_unavailable(message: str):
    return html.Section(
        className="store-missing",
        role="alert",
        children=[
            html.H1(_("The data store is not available")),
            html.P(message),
            html.P(
                _(
                    "The page will work again as soon as a valid store is in place; "
                    "the data owner can rebuild it with `python -m synth_engine build`."
                )
            ),
        ],
    )
