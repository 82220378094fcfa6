"""The chart card factory, and the About page's quality charts from whatever metrics a store holds."""
from __future__ import annotations

import pandas as pd
import pytest
from dash import Dash, html

from components import about, charts, ids


@pytest.fixture(scope="module", autouse=True)
def dash_app():
    return Dash(__name__)     # asset URLs need an app


def test_card_parts_have_derived_ids_and_a_safe_config():
    view = charts.bar_chart("Ages", ["a", "b"], [charts.Series("records", [4, 40])])
    card = charts.card("ages", "Records by age", view, group="overview", notes=["A caveat."])
    found = {}

    def walk(node):
        if isinstance(getattr(node, "id", None), dict):
            found[node.id["type"]] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str):
                walk(child)

    walk(card)
    assert set(found) == {ids.CHART_GRAPH, ids.CHART_SUMMARY, ids.CHART_TABLE}
    assert found[ids.CHART_GRAPH].id == {"type": ids.CHART_GRAPH, "chart": "ages", "group": "overview"}
    config = found[ids.CHART_GRAPH].config
    assert config["displaylogo"] is False and config["showSendToCloud"] is False
    assert config["toImageButtonOptions"]["format"] == "png" and config["modeBarButtons"] == [["toImage"]]
    assert config["topojsonURL"] == "/assets/topojson/"
    assert found[ids.CHART_SUMMARY].children == view.summary
    assert isinstance(card.children[0], html.H2) and card.children[0].children == "Records by age"
    outputs = charts.card_outputs("ages", "overview")
    assert [o.component_property for o in outputs] == ["figure", "children", "children"]


def test_low_counts_are_marked_in_chart_and_table():
    view = charts.bar_chart("T", ["x", "y"], [charts.Series("records", [3, 300])])
    assert view.figure["data"][0]["marker"]["pattern"]["shape"] == ["/", ""]
    caption, markdown, note = view.table.children
    assert markdown.children.splitlines() == ["| category | records |", "|:---|---:|", "| x | 3\\* |", "| y | 300 |"]
    assert caption is None and "fewer than 10" in note.children
    heat = charts.heatmap_chart("H", ["m", "w"], ["a"], [[5, 50]])
    assert heat.figure["data"][0]["text"] == [["5*", "50"]]
    world = charts.choropleth_chart("M", ["USA", "UKR"], ["United States", "Ukraine"], [120, 4])
    assert [t["locations"] for t in world.figure["data"]] == [["USA"], ["UKR"]]
    assert world.figure["data"][1]["name"].startswith("fewer than 10")


def test_palette_and_empty_view():
    assert charts.OKABE_ITO[:3] == ("#0072B2", "#E69F00", "#009E73")
    empty = charts.bar_chart("T", ["x"], [charts.Series("records", [0])])
    assert empty.summary == charts.EMPTY_MESSAGE and empty.figure["data"] == []


def quality_frame(rows):
    return pd.DataFrame(rows, columns=["comparison", "metric", "length", "bucket_low", "value"])


def test_quality_metrics_are_read_from_the_store_not_a_fixed_list():
    frame = quality_frame([
        ("synthetic_vs_sensitive", "suppressed_pct", 1, None, 2.5),
        ("synthetic_vs_sensitive", "suppressed_pct", 2, None, 7.5),
        ("synthetic_vs_sensitive", "preservation", 1, 10, 0.5),
        ("synthetic_vs_sensitive", "preservation", 1, 20, 0.75),
        ("synthetic_vs_sensitive", "record_expansion_pct", None, None, 3.25),
        ("aggregates_vs_sensitive", "brand_new_metric", 3, None, 11.0),
    ])
    headlines, cards = about.quality_cards(frame)
    assert [h.children[1].children for h in headlines] == ["Record expansion"]
    assert headlines[0].children[0].children == "3.25 %"
    titles = [c.children[0].children for c in cards]
    assert titles == ["Brand new metric: protected counts vs sensitive records",
                      "Suppressed: synthetic records vs sensitive records",
                      "Preservation: synthetic records vs sensitive records"]
    suppressed = cards[1].children[2].figure["data"][0]
    assert suppressed["x"] == ["length 1", "length 2"] and suppressed["y"] == [2.5, 7.5]
    preservation = cards[2].children[2].figure["data"][0]
    assert preservation["x"] == ["≥10", "≥20"] and preservation["y"] == [0.5, 0.75]
    assert preservation["type"] == "scatter"


def test_a_measurement_of_zero_is_still_drawn():
    view = charts.bar_chart("Fabricated", ["length 1", "length 2"], [charts.Series("fabricated", [0.0, 0.0])],
                            counts=False, unit="%")
    assert view.figure["data"][0]["y"] == [0.0, 0.0] and view.summary != charts.EMPTY_MESSAGE
    assert about.quality_cards(quality_frame([])) == ([], [])
