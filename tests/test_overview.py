"""The data behind every overview chart, against counts worked out by hand on a hand-built store."""

from __future__ import annotations

import pytest

from analysis import overview_plan
from builders import store_from_rows
from callbacks import overview as overview_callbacks
from components import charts, overview
from data.service import DataService

W, M = "Woman", "Man"
ROWS = [
    dict(
        yearOfRegistration="2015",
        gender=W,
        ageBroad="18--20",
        citizenship="UKR",
        CountryOfExploitation="USA",
        isSexualExploit="1",
        meansThreats="1",
    ),
    dict(
        yearOfRegistration="2015",
        gender=W,
        ageBroad="09--17",
        citizenship="UKR",
        CountryOfExploitation="USA",
        isSexualExploit="1",
        isForcedLabour="1",
        meansThreats="1",
        meansAbusePsyPhySex="1",
    ),
    dict(yearOfRegistration="2016", gender=M, ageBroad="30--38", CountryOfExploitation="RUS", isForcedLabour="1"),
    dict(yearOfRegistration="2016", gender=M, citizenship="RUS", CountryOfExploitation="RUS"),
    dict(gender=W, ageBroad="18--20", citizenship="USA", CountryOfExploitation="USA", isOtherExploit="1"),
    dict(yearOfRegistration="2018", isSexualExploit="1", recruiterRelationFriend="1"),
]
COLUMNS = [
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "meansThreats",
    "meansAbusePsyPhySex",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
]
NAMES = [
    "years",
    "person",
    "map-citizenship",
    "map-CountryOfExploitation",
    "group-means-of-control",
    "group-exploitation-type",
    "group-recruiter-relation",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    path = store_from_rows(tmp_path_factory.mktemp("ov") / "ov.duckdb", ROWS, columns=COLUMNS)
    return DataService(path)


def views(service, mapping):
    headlines, figures, summaries, tables = overview_callbacks.refresh(service, mapping, NAMES)
    return headlines, {n: charts.ChartView(f, s, t) for n, f, s, t in zip(NAMES, figures, summaries, tables)}


def bars(view) -> dict[str, list]:
    return {t["name"]: list(t["customdata"]) for t in view.figure["data"]}


def test_plan_follows_the_codebook(service):
    p = overview_plan.plan(service.store().codebook)
    assert p.year.name == "yearOfRegistration"
    assert [a.name for a in p.exploitation] == ["isForcedLabour", "isSexualExploit", "isOtherExploit"]
    assert [a.name for a in p.person] == ["gender", "ageBroad"]
    assert [c.name for c in p.countries] == ["citizenship", "CountryOfExploitation"]
    assert [g for g, _ in p.flag_groups] == ["means of control", "exploitation type", "recruiter relation"]
    assert [c.name for c in p.cards()] == NAMES


def test_years_split_by_type_of_exploitation(service):
    _, v = views(service, {})
    fig = v["years"].figure
    assert fig["data"][0]["x"] == ["2015", "2016", "2018", "not recorded"]
    assert bars(v["years"]) == {
        "Forced labour only": [0, 1, 0, 0],
        "Sexual exploitation only": [1, 0, 1, 0],
        "Other exploitation only": [0, 0, 0, 1],
        "More than one type": [1, 0, 0, 0],
        "Type not recorded": [0, 1, 0, 0],
    }
    assert fig["layout"]["barmode"] == "stack"
    assert "6 records" in v["years"].summary and "1 have no year recorded" in v["years"].summary


def test_gender_by_age(service):
    _, v = views(service, {})
    trace = v["person"].figure["data"][0]
    assert trace["x"] == ["Man", "Woman", "not recorded"]
    assert trace["y"] == ["9–17", "18–20", "30–38", "not recorded"]
    # rows: age; columns: gender (Man, Woman, not recorded); empty cells are None
    assert trace["z"] == [[None, 1, None], [None, 2, None], [1, None, None], [1, None, 1]]
    assert "Woman, 18–20 (2 records)" in v["person"].summary
    assert "33.3 %" in v["person"].summary  # age not recorded for 2 of 6


def test_maps_count_each_country(service):
    _, v = views(service, {})
    low = v["map-citizenship"].figure["data"][-1]  # every count here is under 10
    assert dict(zip(low["locations"], [c[1] for c in low["customdata"]])) == {"UKR": 2, "RUS": 1, "USA": 1}
    assert "2 records (33.3 %)" in v["map-citizenship"].summary
    coe = v["map-CountryOfExploitation"].figure["data"][-1]
    assert dict(zip(coe["locations"], [c[1] for c in coe["customdata"]])) == {"USA": 3, "RUS": 2}
    assert all(t["locationmode"] == "ISO-3" for t in v["map-citizenship"].figure["data"])


def test_group_percentages_use_the_codebook_denominator(service):
    _, v = views(service, {})
    # exploitation type: 5 records have at least one type; FL 2, SE 3, OE 1
    ex = v["group-exploitation-type"].figure["data"][0]
    assert ex["customdata"] == [3, 2, 1]
    assert ex["x"] == pytest.approx([60.0, 40.0, 20.0])
    assert "Of 5 records" in v["group-exploitation-type"].summary
    assert "add up to 120 %" in v["group-exploitation-type"].summary
    means = v["group-means-of-control"].figure["data"][0]
    assert means["customdata"][:2] == [2, 1] and means["x"][:2] == pytest.approx([100.0, 50.0])
    rec = v["group-recruiter-relation"].figure["data"][0]
    assert rec["customdata"] == [1, 0] and rec["x"] == pytest.approx([100.0, 0.0])


def test_headlines(service):
    headlines, _ = views(service, {})
    text = [[c.children for c in h.children if c is not None] for h in headlines]
    assert ["6", "synthetic records"] == text[0]
    assert ["3", "countries (citizenship)"] in text
    assert ["2", "countries (country of exploitation)"] in text
    assert text[-1][:2] == ["2015–2018", "year of registration covered"]


def test_every_chart_follows_the_filter(service):
    headlines, v = views(service, {"gender": [W]})
    assert headlines[0].children[0].children == "3"
    assert bars(v["years"])["More than one type"] == [1, 0]  # 2015 and "not recorded" only
    assert v["years"].figure["data"][0]["x"] == ["2015", "not recorded"]
    ex = v["group-exploitation-type"].figure["data"][0]
    assert ex["customdata"] == [2, 1, 1] and ex["x"] == pytest.approx([200 / 3, 100 / 3, 100 / 3])
    assert v["group-recruiter-relation"].summary.startswith("No record under the current filter")
    coe = v["map-CountryOfExploitation"].figure["data"][-1]
    assert coe["locations"] == ["USA"] and coe["customdata"] == [["United States", 3]]


def test_counts_under_ten_are_marked(service):
    _, v = views(service, {})
    ex = v["group-exploitation-type"].figure["data"][0]
    assert ex["marker"]["pattern"]["shape"] == ["/", "/", "/"]
    assert "fewer than 10" in v["map-citizenship"].figure["data"][-1]["name"]


def test_a_store_without_groups_or_countries(tmp_path):
    rows = [
        {"yearOfRegistration": "2020", "gender": "Man"},
        {"yearOfRegistration": "2021", "gender": "Woman"},
        {"gender": "Woman"},
    ]
    service = DataService(store_from_rows(tmp_path / "small.duckdb", rows))
    p = overview_plan.plan(service.store().codebook)
    assert [c.name for c in p.cards()] == ["years", "person"]
    data = overview.compute(service, service.filter({}))
    assert bars(data.views["years"]) == {"records": [1, 1, 1]}
    assert data.views["person"].figure["data"][0]["customdata"] == [1, 2]
    other = DataService(store_from_rows(tmp_path / "other.duckdb", [{"region": "north", "size": "big"}]))
    # every attribute is drawn (#13): two one-valued columns are flags, shown as shares of all records
    assert [(c.name, [a.name for a in c.attributes]) for c in overview_plan.plan(other.store().codebook).cards()] == [
        ("flags", ["region", "size"])
    ]
    assert overview.compute(other, other.filter({})).headlines[0].children[0].children == "1"


def test_page_queries_go_through_the_cache(tmp_path, monkeypatch):
    from flask import Flask
    from flask_caching import Cache

    from data.counting import RecordCodes
    from data.store import Store

    path = store_from_rows(tmp_path / "cached.duckdb", ROWS, columns=COLUMNS)
    service = DataService(path, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    calls = []
    # the overview's counts come from the records' codes in memory; the SQL count is never needed
    for owner, name in ((RecordCodes, "grouping_counts"), (RecordCodes, "flag_groups_counts"), (Store, "count")):
        original = getattr(owner, name)
        monkeypatch.setattr(
            owner, name, lambda self, *a, _o=original, _n=name, **k: calls.append(_n) or _o(self, *a, **k)
        )
    first = overview_callbacks.refresh(service, {"gender": [W]}, NAMES)
    assert sorted(calls) == ["flag_groups_counts", "grouping_counts"]  # two queries serve every chart
    second = overview_callbacks.refresh(service, {"gender": [W]}, NAMES)
    assert len(calls) == 2 and second[1] == first[1]
    overview_callbacks.refresh(service, {"gender": [M]}, NAMES)
    assert len(calls) == 4
