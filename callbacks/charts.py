"""The chart cards' own behaviour: the keyboard-reachable "Save PNG" button of every card."""
from __future__ import annotations

from dash import MATCH, Input, Output, State

from components import ids
from components.charts import part_id

# Finds the card's plotly graph by its pattern-matching id and saves it with the graph's own
# export options (components.charts.graph_config), exactly as the modebar's camera button does.
SAVE_PNG = """
function (clicks, buttonId) {
    if (!clicks) { return window.dash_clientside.no_update; }
    const graphId = JSON.stringify({chart: buttonId.chart, group: buttonId.group, type: "%s"});
    const holder = document.getElementById(graphId);
    const plot = holder && holder.querySelector(".js-plotly-plot");
    if (plot && window.Plotly) {
        window.Plotly.downloadImage(plot, plot._context.toImageButtonOptions);
    }
    return window.dash_clientside.no_update;
}
""" % ids.CHART_GRAPH


def register(app, service=None) -> None:
    app.clientside_callback(SAVE_PNG, Output(part_id(ids.CHART_PNG, MATCH, MATCH), "className"),
                            Input(part_id(ids.CHART_PNG, MATCH, MATCH), "n_clicks"),
                            State(part_id(ids.CHART_PNG, MATCH, MATCH), "id"), prevent_initial_call=True)
