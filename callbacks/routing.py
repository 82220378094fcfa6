"""Chooses the page from the URL's path; keeps the navigation's links on the current filters."""

from __future__ import annotations

from dash import ALL, Input, Output, State, html

from analysis.address import decode, encode, normal_path, with_language
from components import ids, shell
from components.pages import page_for
from data.store import StoreError
from i18n import _


def render_page(pathname, search, pages, service):
    page = page_for(pathname, pages)
    if page is None:
        return html.Section(
            [html.H1(_("Page not found")), html.P(_("There is no page at this address. Use the navigation above."))]
        )
    try:
        return page.layout(service, search)
    except StoreError as err:
        return shell.store_unavailable(str(err))


def nav_links(pathname, search, link_ids, service):
    """(hrefs, classes) of the navigation's links: each carries the address's filter (what of
    it the store knows), the current page's link is marked."""
    try:
        query = encode(decode(search, service.store().codebook).filter)
    except StoreError:
        query = ""
    current = normal_path(pathname)
    return (
        [i["path"] + query for i in link_ids],
        ["nav-link active" if i["path"] == current else "nav-link" for i in link_ids],
    )


def language_links(pathname, search, link_ids) -> list[str]:
    """The switcher's links: this very address in each language."""
    return [normal_path(pathname) + with_language(search, i["lang"]) for i in link_ids]


def register(app, service, pages) -> None:
    # A new page also clears the notice of the previous one (a page's filter sync may set its own).
    app.callback(
        Output(ids.PAGE, "children"),
        Output(ids.NOTICE, "children"),
        Input(ids.URL, "pathname"),
        State(ids.URL, "search"),
    )(lambda pathname, search: (render_page(pathname, search, pages, service), None))
    app.callback(
        Output({"type": ids.NAV_LINK, "path": ALL}, "href"),
        Output({"type": ids.NAV_LINK, "path": ALL}, "className"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
        State({"type": ids.NAV_LINK, "path": ALL}, "id"),
    )(lambda pathname, search, link_ids: nav_links(pathname, search, link_ids, service))
    app.callback(
        Output({"type": ids.LANGUAGE_LINK, "lang": ALL}, "href"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
        State({"type": ids.LANGUAGE_LINK, "lang": ALL}, "id"),
    )(language_links)
