"""Flows from citizenship to country of exploitation on a hand-built store: synthetic counts equal
hand counts, the filters apply (on either end too), protected counts are shown or said to be
suppressed, and the Sankey, its table and summary agree."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from analysis import comparability as cmp
from analysis.explore_counts import context
from analysis.flows import flows
from builders import repeated_rows, store_from_rows
from callbacks import explore as explore_callbacks
from callbacks import overview as overview_callbacks
from components import flow_chart
from data.service import DataService

UKR_USA = {"citizenship": "UKR", "CountryOfExploitation": "USA"}
PHL_USA = {"citizenship": "PHL", "CountryOfExploitation": "USA"}
ROWS = repeated_rows(
    (3, dict(UKR_USA, gender="Woman")),
    (2, dict(UKR_USA, gender="Man")),
    (2, dict(PHL_USA, gender="Woman")),
    (1, {"citizenship": "RUS", "CountryOfExploitation": "RUS", "gender": "Man"}),
    (1, {"CountryOfExploitation": "RUS", "gender": "Woman"}),  # no citizenship recorded
    (1, {"citizenship": "PHL", "gender": "Man"}),  # no country of exploitation
)
# Protected counts, a little off the true ones; RUS -> RUS and PHL -> USA for women are not listed.
AGGREGATES = {
    "citizenship:UKR": 6,
    "citizenship:PHL": 3,
    "citizenship:RUS": 1,
    "CountryOfExploitation:USA": 7,
    "CountryOfExploitation:RUS": 2,
    "gender:Woman": 6,
    "gender:Man": 4,
    "CountryOfExploitation:USA;citizenship:UKR": 6,
    "CountryOfExploitation:USA;citizenship:PHL": 3,
    "CountryOfExploitation:USA;citizenship:UKR;gender:Woman": 4,
}
ORIGIN, DESTINATION = "citizenship", "CountryOfExploitation"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    path = store_from_rows(
        tmp_path_factory.mktemp("flows") / "f.duckdb",
        ROWS,
        aggregates=AGGREGATES,
        columns=["gender", "citizenship", "CountryOfExploitation"],
    )
    return DataService(path)


def flows_under(service, mapping, top=12):
    ctx = context(service)
    return flows(ctx, service.filter(mapping), ctx.codebook[ORIGIN], ctx.codebook[DESTINATION], top)


def table(data):
    return [(f.origin, f.destination, f.synthetic, f.comparison.protected) for f in data.flows]


def test_the_pair_is_citizenship_to_country_of_exploitation(service):
    codebook = service.store().codebook
    assert [(o.name, d.name) for o, d in codebook.flows()] == [(ORIGIN, DESTINATION)]


def test_no_pair_without_a_destination(tmp_path):
    path = store_from_rows(tmp_path / "n.duckdb", [{"citizenship": "UKR", "gender": "Man"}])
    assert DataService(path).store().codebook.flows() == []


def test_flows_count_the_records_and_carry_their_protected_counts(service):
    data = flows_under(service, {})
    assert table(data) == [("UKR", "USA", 5, 6), ("PHL", "USA", 2, 3), ("RUS", "RUS", 1, None)]
    assert data.flows[2].comparison.parts[0].status == cmp.SUPPRESSED
    assert (data.unplaced, data.other_flows, data.placed) == (2, 0, 8)


def test_other_filters_apply_and_lengthen_the_combination(service):
    data = flows_under(service, {"gender": ["Woman"]})
    assert table(data) == [("UKR", "USA", 3, 4), ("PHL", "USA", 2, None)]
    assert data.unplaced == 1


def test_a_filter_on_an_end_keeps_its_flows(service):
    assert table(flows_under(service, {ORIGIN: ["PHL"]})) == [("PHL", "USA", 2, 3)]
    assert flows_under(service, {ORIGIN: ["PHL"]}).unplaced == 1
    assert table(flows_under(service, {DESTINATION: ["RUS"]})) == [("RUS", "RUS", 1, None)]


def test_flows_beyond_the_top_are_summed(service):
    data = flows_under(service, {}, top=1)
    assert table(data) == [("UKR", "USA", 5, 6)]
    assert (data.other_flows, data.other_records) == (2, 3)


def test_the_sankey_its_table_and_summary(service):
    ctx = context(service)
    view = flow_chart.flow_view(ctx, service.filter({}), ctx.codebook[ORIGIN], ctx.codebook[DESTINATION])
    trace = view.figure["data"][0]
    assert trace["type"] == "sankey"
    assert trace["node"]["label"] == ["Ukraine", "Philippines", "Russia", "United States", "Russia"]
    assert (trace["link"]["source"], trace["link"]["target"], trace["link"]["value"]) == (
        [0, 1, 2],
        [3, 3, 4],
        [5, 2, 1],
    )
    assert "protected count suppressed" in trace["link"]["customdata"][2]
    assert "8 synthetic records" in view.summary and "Ukraine → United States with 5" in view.summary
    assert "2 records lack one end" in view.summary
    markdown = view.table.children[1].children
    assert "| Ukraine | United States | 5\\* | 6\\* | −1 |" in markdown
    assert "| Russia | Russia | 1\\* | suppressed |" in markdown


def test_the_flows_beyond_the_top_make_one_grey_band(service):
    ctx = context(service)
    view = flow_chart.flow_view(ctx, service.filter({}), ctx.codebook[ORIGIN], ctx.codebook[DESTINATION], top=1)
    trace = view.figure["data"][0]
    assert trace["node"]["label"] == ["Ukraine", "United States", "Other citizenship", "Other country of exploitation"]
    assert trace["link"]["value"] == [5, 3] and trace["link"]["color"][1] == flow_chart.OTHER_LINK_COLOUR
    assert "The 1 largest, drawn one by one, hold 5 of them (62 %)." in view.summary
    assert "| 2 other flows |  | 3\\* | – | – | not compared |" in view.table.children[1].children


def test_an_empty_selection_says_so(service):
    ctx = context(service)
    view = flow_chart.flow_view(
        ctx,
        service.filter({"gender": ["Man"], DESTINATION: ["RUS"], ORIGIN: ["UKR"]}),
        ctx.codebook[ORIGIN],
        ctx.codebook[DESTINATION],
    )
    assert view.figure["data"] == [] and "No record" in view.summary


def test_the_overview_and_explore_callbacks_draw_the_flows(service):
    name = flow_chart.card_name(service.store().codebook[ORIGIN])
    _, figures, summaries, _ = overview_callbacks.refresh(service, {"gender": ["Woman"]}, [name])
    assert figures[0]["data"][0]["link"]["value"] == [3, 2]
    assert summaries[0].startswith("5 synthetic records")
    state = {"search": "?gender=Man", "notices": []}
    figures, summaries, _, shown = explore_callbacks.render_flows(service, state, None, [name])
    assert figures[0]["data"][0]["link"]["value"] == [2, 1]
    assert summaries[0].startswith("3 synthetic records")
    with pytest.raises(PreventUpdate):  # another view or sort, the same filter: the flows stay
        explore_callbacks.render_flows(service, {"search": "?gender=Man&_sort=synthetic", "notices": []}, shown, [name])


def test_an_imported_release_of_another_schema_gets_its_regions_flows(tmp_path):
    from pathlib import Path

    import pandas as pd

    from foreign_releases import write_release
    from synth_engine.importer import import_release

    paths = write_release(tmp_path, "regions", rows=500, seed=3, with_aggregates=True)
    import_release(paths["microdata"], str(tmp_path / "r.duckdb"), aggregates=paths["aggregates"])
    service = DataService(str(tmp_path / "r.duckdb"))
    ctx = context(service)
    [(origin, destination)] = ctx.codebook.flows()
    assert (origin.name, destination.name) == ("originRegion", "destinationRegion")
    data = flows(ctx, service.filter({"sector": ["Fishing"]}), origin, destination, top=100)
    frame = pd.read_csv(paths["microdata"], dtype=str).dropna(subset=["originRegion", "destinationRegion"])
    expected = frame[frame["sector"] == "Fishing"].groupby(["originRegion", "destinationRegion"]).size()
    assert {(f.origin, f.destination): f.synthetic for f in data.flows} == {k: int(n) for k, n in expected.items()}
    released = dict(line.split("\t") for line in Path(paths["aggregates"]).read_text(encoding="utf-8").splitlines()[2:])
    for f in data.flows:  # with the sector filter each flow is a combination of three: beyond length 2
        assert f.comparison.status == cmp.BEYOND and f.comparison.protected is None
    everyone = flows(ctx, service.filter({}), origin, destination, top=100)
    for f in everyone.flows:
        key = f"destinationRegion:{f.destination};originRegion:{f.origin}"
        assert f.comparison.protected == (int(released[key]) if key in released else None)
