"""Overview page: the filter sync, and one callback that refreshes the headlines and every card."""

from __future__ import annotations

from dash import ALL, Input, Output, callback_context

from analysis.filter_controls import current_filter
from callbacks import filters as filter_sync
from components import charts, filters, ids, overview


def refresh(service, mapping: dict | None, names: list[str]) -> tuple:
    """(headlines, figures, summaries, tables) for the filter `mapping`, the card lists in the
    order of `names` (the cards on the page)."""
    flt = current_filter(service, mapping)
    data = overview.compute(service, flt)
    return (data.headlines, *charts.card_parts(data.views, names))


def register(app, service) -> None:
    filter_sync.register(app, service, overview.PAGE, overview.PATH)

    def callback(mapping):
        names = [o["id"]["chart"] for o in callback_context.outputs_list[1]]
        return refresh(service, mapping, names)

    app.callback(
        Output(ids.OVERVIEW_HEADLINES, "children"),
        *charts.card_outputs(ALL, overview.PAGE),
        Input(filters.state_id(overview.PAGE), "data"),
        prevent_initial_call=True,
    )(callback)
