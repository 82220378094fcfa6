"""Keeps a page's filter controls, its filter and the address's query string in step.

A change of a control writes the query string (a new history entry, so back and forward walk
through the views); a new query string (opening a link, back, forward) sets the controls. Parts
of the address that are not understood are left out and named in the notice area.
"""

from __future__ import annotations

from dash import ALL, Input, Output, State, callback_context, no_update
from dash.exceptions import PreventUpdate

from analysis.address import encode, normal_path
from analysis.filter_controls import controls, from_query, mapping_from_values
from components import filters, ids
from components.common import notice
from data.store import Filter


def sync(
    service,
    page_path: str,
    from_url: bool,
    search: str | None,
    values: list,
    control_ids: list[dict],
    pathname: str | None,
    current: dict | None,
):
    """(query string, control values, notice, filter mapping) after a change of the address
    (`from_url`) or of the controls. Controls that show the current filter (just inserted with
    the page) count as a change of the address: the address is read, its notices shown, and
    nothing is written back. Returns dash.no_update where nothing changes."""
    if normal_path(pathname) != normal_path(page_path):
        raise PreventUpdate  # another page's address
    codebook = service.store().codebook
    by_name = {c.name: c for c in controls(codebook)}
    ctrls = [by_name[i["name"]] for i in control_ids if i["name"] in by_name]
    chosen = mapping_from_values(ctrls, {i["name"]: v for i, v in zip(control_ids, values)})
    if from_url or chosen == current:
        shown, mapping, messages = from_query(codebook, ctrls, search)
        new_values = [shown.get(i["name"], old) for i, old in zip(control_ids, values)]
        return (
            no_update,
            [no_update if new == old else new for new, old in zip(new_values, values)],
            notice(messages),
            no_update if mapping == current else mapping,
        )
    new_search = encode(Filter.build(codebook, chosen))
    return (no_update if new_search == (search or "") else new_search, [no_update] * len(values), None, chosen)


def register(app, service, page: str, page_path: str) -> None:
    """Wires the sync for the filter panel `page` shown at `page_path`."""

    def callback(search, values, control_ids, pathname, current):
        from_url = callback_context.triggered_id in (None, ids.URL) or not callback_context.triggered
        if not current:
            raise PreventUpdate  # the page's panel is not shown
        out = sync(service, page_path, from_url, search, values, control_ids, pathname, current[0])
        return out[:3] + ([out[3]],)

    app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Output(filters.control_id(page, ALL), "value"),
        Output(ids.NOTICE, "children", allow_duplicate=True),
        Output(filters.state_id(page, ALL), "data"),
        Input(ids.URL, "search"),
        Input(filters.control_id(page, ALL), "value"),
        State(filters.control_id(page, ALL), "id"),
        State(ids.URL, "pathname"),
        State(filters.state_id(page, ALL), "data"),
        prevent_initial_call="initial_duplicate",
    )(callback)
