"""The chart card factory, and the About page's quality charts from whatever metrics a store holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dash import Dash, html

from builders import categorical_attribute
from components import about, about_agreement, charts, ids
from data.codebook import Attribute, Codebook


@pytest.fixture(scope="module", autouse=True)
def dash_app():
    return Dash(__name__)  # asset URLs need an app


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
    frame = quality_frame(
        [
            ("synthetic_vs_sensitive", "suppressed_pct", 1, None, 2.5),
            ("synthetic_vs_sensitive", "suppressed_pct", 2, None, 7.5),
            ("synthetic_vs_sensitive", "preservation", 1, 10, 0.5),
            ("synthetic_vs_sensitive", "preservation", 1, 20, 0.75),
            ("synthetic_vs_sensitive", "record_expansion_pct", None, None, 3.25),
            ("aggregates_vs_sensitive", "brand_new_metric", 3, None, 11.0),
        ]
    )
    headlines, cards = about.quality_cards(frame)
    assert [h.children[1].children for h in headlines] == ["Record expansion"]
    assert headlines[0].children[0].children == "3.25 %"
    titles = [c.children[0].children for c in cards]
    assert titles == [
        "Brand new metric: protected counts vs sensitive records",
        "Suppressed: synthetic records vs sensitive records",
        "Preservation: synthetic records vs sensitive records",
    ]
    suppressed = cards[1].children[2].figure["data"][0]
    assert suppressed["x"] == ["length 1", "length 2"] and suppressed["y"] == [2.5, 7.5]
    preservation = cards[2].children[2].figure["data"][0]
    assert preservation["x"] == ["≥10", "≥20"] and preservation["y"] == [0.5, 0.75]
    assert preservation["type"] == "scatter"


def test_a_measurement_of_zero_is_still_drawn():
    view = charts.bar_chart(
        "Fabricated", ["length 1", "length 2"], [charts.Series("fabricated", [0.0, 0.0])], counts=False, unit="%"
    )
    assert view.figure["data"][0]["y"] == [0.0, 0.0] and view.summary != charts.EMPTY_MESSAGE
    assert about.quality_cards(quality_frame([])) == ([], [])


# --- the leading section: agreement in noise units (#12) ----------------------------------------


def agreement_figures(**changes) -> about_agreement.Agreement:
    nan = float("nan")
    figures = {
        "by_length": pd.DataFrame(
            {
                "length": [1.0, 2.0, nan],
                "measured_combinations": [40.0, 120.0, 160.0],
                "mean_abs_z": [0.75, 1.6, 1.3875],
                "within_noise_95_pct": [97.5, 80.0, 84.375],
                "max_abs_z": [2.1, 7.25, 7.25],
                "mean_relative_error": [0.01, 0.05, 0.04],
            }
        ),
        "by_bucket": pd.DataFrame(
            {
                "length": [1.0, 1.0, 2.0],
                "bucket_low": [10, 100, 10],
                "mean_abs_z": [0.7, 0.9, 1.6],
                "within_noise_95_pct": [100.0, 95.0, 80.0],
            }
        ),
        "unlisted": pd.DataFrame(
            {
                "length": [2.0],
                "unlisted_combinations": [40.0],
                "unlisted_beyond_noise": [3.0],
                "fabricated_pct": [12.5],
                "suppressed_pct": [1.25],
            }
        ),
        "deviations": pd.DataFrame(
            {
                "rank": [1, 2],
                "length": [2, 1],
                "key": ["ageBroad:18--20;gender:Woman", "gender:Man"],
                "reference_count": [300, 55],
                "compared_count": [279, 47],
                "z": [-7.25, -2.0],
            }
        ),
        "totals": {
            "implications": 7.0,
            "implications_violated": 2.0,
            "implication_breaches": 31.0,
            "records_with_unlisted_pct": 0.5,
            "record_expansion_pct": 0.25,
        },
    }
    figures.update(changes)
    return about_agreement.Agreement(**figures)


def texts(node) -> list[str]:
    """Every string in a component tree, in document order."""
    if isinstance(node, str):
        return [node]
    children = getattr(node, "children", None)
    return [
        t
        for child in (children if isinstance(children, list) else [children])
        if child is not None
        for t in texts(child)
    ]


def test_the_exact_copy_reference_is_the_gaussian_noise_theory():
    assert about_agreement.REFERENCE_MEAN_ABS_Z == pytest.approx(0.7979, abs=1e-4)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 3.0, 200_000) / 3.0  # z of exact records
    assert np.abs(noise).mean() == pytest.approx(about_agreement.REFERENCE_MEAN_ABS_Z, abs=0.01)
    assert 100 * np.mean(np.abs(noise) <= 1.96) == pytest.approx(about_agreement.REFERENCE_WITHIN_PCT, abs=0.5)


def test_the_lead_figures_stand_beside_the_reference():
    figures = about_agreement.lead_figures(agreement_figures())
    shown = [(f.children[1].children, f.children[0].children) for f in figures]
    assert shown == [
        ("mean |z| over all lengths", "1.39"),
        ("inside the 95 % noise interval", "84.4 %"),
        ("unlisted combinations beyond the noise", "3"),
        ("implications violated", "2 of 7"),
    ]
    assert "about 0.80" in figures[0].children[2].children and "about 95 %" in figures[1].children[2].children
    assert figures[2].children[2].children == "among 40 combinations the protected counts do not list"


def test_the_length_table_and_the_largest_deviations_in_words():
    table = texts(about_agreement.length_table(agreement_figures().by_length))
    lines = [line for t in table for line in t.splitlines()]
    assert "| length 2 | 120 | 1.60 | 80.0 % | 7.2 | 0.050 |" in lines
    assert lines[-1].startswith("| all lengths | 160 | 1.39 |")
    codebook = Codebook(
        (
            Attribute("ageBroad", "Age group", "", "victim", "ordinal", ("18--20",), ("18–20",)),
            categorical_attribute("gender", ("Man", "Woman")),
        )
    )
    deviations = texts(about_agreement.deviations_table(agreement_figures().deviations, codebook))
    rows = [line for t in deviations for line in t.splitlines()]
    assert rows[3:5] == ["| Age group 18–20 and gender Woman | 300 | 279 | −7.2 |", "| gender Man | 55 | 47 | −2.0 |"]
    assert about_agreement.describe_key(codebook, "gender:Other;region:North") == "gender:Other and region:North"


def test_bucket_charts_draw_each_length_and_the_reference_in_black():
    card = about_agreement.bucket_card(
        agreement_figures().by_bucket, "mean_abs_z", "Mean |z|", about_agreement.REFERENCE_MEAN_ABS_Z
    )
    graph, summary = card.children[2], card.children[1]
    lines = graph.figure["data"]
    assert [t["name"] for t in lines] == ["length 1", "length 2", about_agreement.REFERENCE_NAME]
    assert lines[0]["x"] == ["10–99", "100–999"] and lines[0]["y"] == [0.7, 0.9]
    assert lines[1]["y"] == [1.6, None]
    assert lines[2]["y"] == [about_agreement.REFERENCE_MEAN_ABS_Z] * 2
    assert lines[2]["line"]["color"] == about_agreement.REFERENCE_COLOUR
    assert lines[0]["line"]["color"] != lines[1]["line"]["color"]
    assert "furthest from it: length 2, counts 10–99, at 1.6" in summary.children
    assert about_agreement.bucket_name(10_000) == "10,000 and more"
    assert about_agreement.bucket_card(agreement_figures().by_bucket.iloc[0:0], "mean_abs_z", "M", 0.8) is None


def test_the_section_says_so_when_the_store_has_no_figures():
    empty = agreement_figures(
        by_length=pd.DataFrame(columns=["length"]),
        unlisted=pd.DataFrame(columns=["length"]),
        deviations=pd.DataFrame(columns=["rank"]),
        by_bucket=pd.DataFrame(),
        totals={},
    )
    assert empty.empty
    words = " ".join(texts(about_agreement.section(empty, Codebook(()))))
    assert "no measurements in noise units" in words
    full = " ".join(texts(about_agreement.section(agreement_figures(), Codebook(()))))
    assert "0.50 % of the synthetic records hold a combination" in full
    assert "31 synthetic records have a value without" in full
