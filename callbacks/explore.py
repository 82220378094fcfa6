"""The Explore page's callbacks. The address holds the page's whole state
(analysis/explore_state.py):

* `sync` keeps the address, the controls and the page's state store in step: a change of a
  control writes the address (a new history entry, so back and forward walk through the
  selections); a new address — a link, a chip's remove link, back, forward — sets the controls.
  Its controls are pattern-matching, so it can run while another page is shown, and then does
  nothing;
* `render_selection`, `render_view` and `render_crosstab` rebuild the page's parts when the state
  store changes. The cross-tab is only rebuilt when its own inputs changed.
"""

from __future__ import annotations

from dataclasses import replace

from dash import ALL, Input, Output, State, callback_context, no_update
from dash.exceptions import PreventUpdate

from analysis.address import normal_path
from analysis.explore_counts import context, crosstab_key
from analysis.explore_state import (
    ALL_ATTRIBUTES,
    DEFAULT_SORT,
    PATH,
    SORTS,
    from_data,
    from_search,
)
from analysis.filter_controls import chosen_values
from components import charts, explore, explore_views, flow_chart, ids, shell
from components.common import notice
from components.explore import ATTRIBUTE, COLS, ROWS, SORT, STATE_ID, VALUES, VIEW
from data.store import StoreError

ALL_CONTROLS = {"type": ids.EXPLORE_CONTROL, "name": ALL}
ALL_STATES = {**STATE_ID, "page": ALL}


def _changed(new, old):
    return no_update if new == old else new


def _choice(value):
    """A single-choice control's value: values arrive from the browser, so anything but text is
    no choice."""
    return value if isinstance(value, str) else None


def _from_controls(codebook, state, name: str, controls: dict):
    """The state after the user changed control `name` (the other controls as they are)."""
    if name == VALUES:
        attribute = _choice(controls.get(ATTRIBUTE))
        if attribute not in codebook:
            raise PreventUpdate
        return state.with_values(codebook, attribute, chosen_values(controls.get(VALUES), codebook[attribute].values))
    value = _choice(controls.get(name))
    if name == VIEW:
        return replace(state, view=value if value in codebook else ALL_ATTRIBUTES, notices=())
    if name == SORT:
        return replace(state, sort=value if value in SORTS else DEFAULT_SORT, notices=())
    if name in (ROWS, COLS):
        value = value if value in codebook else None
        mine, other = (state.rows, state.cols) if name == ROWS else (state.cols, state.rows)
        if value and value == other:
            other = mine  # choosing the other axis' attribute swaps them
        rows, cols = (value, other) if name == ROWS else (other, value)
        return replace(state, rows=rows, cols=cols, notices=())
    raise PreventUpdate


def sync(service, trigger, search, values: list, control_ids: list[dict], shown: list, pathname):
    """(address, control values, control options, controls disabled, state store data): the
    lists follow `control_ids` and the state stores on the page (one, or none elsewhere)."""
    if normal_path(pathname) != PATH or not control_ids:
        raise PreventUpdate  # another page's address
    ctx = context(service)
    codebook = ctx.codebook
    controls = {i["name"]: v for i, v in zip(control_ids, values)}
    names = [i["name"] for i in control_ids]
    state = from_search(codebook, search)
    changed = trigger.get("name") if isinstance(trigger, dict) else None
    if changed in (None, ATTRIBUTE):
        # the address (or the attribute whose values are shown) changed: the controls follow
        attribute = _choice(controls.get(ATTRIBUTE))
        attribute = attribute if attribute in codebook else None
        wanted = {
            VALUES: explore.picked_values(state, attribute),
            VIEW: state.view,
            SORT: state.sort,
            ROWS: state.rows,
            COLS: state.cols,
        }
        new_values = [
            _changed(wanted[n], controls[n] or ([] if n == VALUES else None)) if n in wanted else no_update
            for n in names
        ]
        options = [explore.value_options(ctx, state, attribute) if n == VALUES else no_update for n in names]
        disabled = [attribute is None if n == VALUES else no_update for n in names]
        return no_update, new_values, options, disabled, [_changed(state.data(), s) for s in shown]
    new = _from_controls(codebook, state, changed, controls)
    return (
        _changed(new.search(), search or ""),
        [no_update] * len(names),
        [no_update] * len(names),
        [no_update] * len(names),
        [_changed(new.data(), s) for s in shown],
    )


def render_selection(service, data):
    """(chips, notice, comparability panel)."""
    try:
        ctx = context(service)
    except StoreError as err:
        return None, None, shell.store_unavailable(str(err))
    state = from_data(ctx.codebook, data)
    return explore.chips(ctx.codebook, state), notice(state.notices, explore.NOTICE_CLASS), explore.panel(ctx, state)


def render_view(service, data):
    """The per-attribute view (its links carry the whole address, so it follows every change)."""
    try:
        ctx = context(service)
    except StoreError:
        raise PreventUpdate from None  # the panel says what is wrong
    return explore_views.attribute_view(ctx, from_data(ctx.codebook, data))


def render_crosstab(service, data, shown):
    """(cross-tab, the key of what it shows); nothing when its inputs did not change."""
    try:
        ctx = context(service)
    except StoreError:
        raise PreventUpdate from None
    state = from_data(ctx.codebook, data)
    key = crosstab_key(state)
    if key == shown:
        raise PreventUpdate
    return explore_views.crosstab(ctx, state), key


def render_flows(service, data, shown, names: list[str]) -> tuple:
    """The flow cards' (figures, summaries, tables), in the order of `names`, and the filter they
    show; nothing when the filter did not change (a new view or sort leaves the flows alone)."""
    try:
        ctx = context(service)
    except StoreError:
        raise PreventUpdate from None
    flt = from_data(ctx.codebook, data).filter
    if flt.cache_key() == shown:
        raise PreventUpdate
    return (*charts.card_parts(flow_chart.flow_views(ctx, flt), names), flt.cache_key())


def register(app, service) -> None:
    app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Output(ALL_CONTROLS, "value"),
        Output(ALL_CONTROLS, "options"),
        Output(ALL_CONTROLS, "disabled"),
        Output(ALL_STATES, "data"),
        Input(ids.URL, "search"),
        Input(ALL_CONTROLS, "value"),
        State(ALL_CONTROLS, "id"),
        State(ALL_STATES, "data"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )(
        lambda search, values, control_ids, shown, pathname: sync(
            service, callback_context.triggered_id, search, values, control_ids, shown, pathname
        )
    )
    state = Input(STATE_ID, "data")
    app.callback(
        Output(ids.EXPLORE_CHIPS, "children"),
        Output(ids.EXPLORE_NOTICE, "children"),
        Output(ids.EXPLORE_PANEL, "children"),
        state,
        prevent_initial_call=True,
    )(lambda data: render_selection(service, data))
    app.callback(Output(ids.EXPLORE_VIEW_CONTENT, "children"), state, prevent_initial_call=True)(
        lambda data: render_view(service, data)
    )
    app.callback(
        Output(ids.EXPLORE_CROSSTAB, "children"),
        Output(ids.EXPLORE_CROSSTAB_SHOWN, "data"),
        state,
        State(ids.EXPLORE_CROSSTAB_SHOWN, "data"),
        prevent_initial_call=True,
    )(lambda data, shown: render_crosstab(service, data, shown))
    app.callback(
        *charts.card_outputs(ALL, flow_chart.EXPLORE_GROUP),
        Output(ids.EXPLORE_FLOWS_SHOWN, "data"),
        state,
        State(ids.EXPLORE_FLOWS_SHOWN, "data"),
        prevent_initial_call=True,
    )(
        lambda data, shown: render_flows(
            service, data, shown, [o["id"]["chart"] for o in callback_context.outputs_list[0]]
        )
    )
