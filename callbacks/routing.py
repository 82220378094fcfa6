"""Chooses the page from the URL's path."""
from __future__ import annotations

from urllib.parse import parse_qs

from dash import Input, Output, State, html

from components import ids, shell
from components.pages import page_for
from data.store import StoreError


def render_page(pathname, search, pages, service):
    page = page_for(pathname, pages)
    if page is None:
        return html.Section([html.H1("Page not found"),
                             html.P("There is no page at this address. Use the navigation above.")])
    try:
        return page.layout(service, parse_qs((search or "").lstrip("?"), keep_blank_values=False))
    except StoreError as err:
        return shell.store_unavailable(str(err))


def register(app, service, pages) -> None:
    app.callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"), State(ids.URL, "search"))(
        lambda pathname, search: render_page(pathname, search, pages, service))
