"""The filter panel and its sync with the address, called as plain functions."""

from __future__ import annotations

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from analysis import filter_controls
from builders import random_rows, store_from_rows
from callbacks import filters as sync_callbacks
from components import filters
from data.service import DataService


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    rows = random_rows(60, seed=2)
    rows[0]["citizenship"] = "UKR"
    rows[0]["isOtherExploit"] = "1"
    return DataService(store_from_rows(tmp_path_factory.mktemp("f") / "f.duckdb", rows))


@pytest.fixture(scope="module")
def ctrls(service):
    return filter_controls.controls(service.store().codebook)


def ids_of(ctrls):
    return [filters.control_id("overview", c.name) for c in ctrls]


def test_controls_come_from_the_codebook(ctrls):
    assert [(c.name, c.kind) for c in ctrls] == [
        ("yearOfRegistration", "years"),
        ("gender", "values"),
        ("ageBroad", "values"),
        ("group:exploitation type", "flags"),
        ("CountryOfExploitation", "values"),
        ("citizenship", "values"),
    ]


def test_values_and_mappings_round_trip(ctrls):
    values = {"yearOfRegistration": [2016, 2019], "gender": ["Woman", "~"], "group:exploitation type": "isForcedLabour"}
    mapping = filter_controls.mapping_from_values(ctrls, values)
    assert mapping == {"yearOfRegistration": ["2016", "2019"], "gender": ["Woman", None], "isForcedLabour": ["1"]}
    back, notices = filter_controls.values_from_mapping(ctrls, mapping)
    assert notices == []
    assert back["yearOfRegistration"] == [2016, 2019] and back["gender"] == ["Woman", "~"]
    assert back["group:exploitation type"] == "isForcedLabour" and back["ageBroad"] == []
    # the whole year range is no filter at all (records without a year stay in)
    assert filter_controls.mapping_from_values(ctrls, {"yearOfRegistration": [2015, 2019]}) == {}
    # "type not recorded" is every flag of the group empty
    none = filter_controls.mapping_from_values(ctrls, {"group:exploitation type": "~"})
    assert none == {"isForcedLabour": [None], "isSexualExploit": [None], "isOtherExploit": [None]}
    assert filter_controls.values_from_mapping(ctrls, none)[0]["group:exploitation type"] == "~"


@pytest.mark.parametrize(
    "values",
    [
        {"yearOfRegistration": True, "gender": 5.0},
        {"yearOfRegistration": ["a", "b"], "gender": [["Woman"]]},
        {"yearOfRegistration": [2016, 2019, 2020], "gender": {"Woman": 1}},
    ],
)
def test_control_values_of_the_wrong_shape_add_nothing(ctrls, values):
    assert filter_controls.mapping_from_values(ctrls, values) == {}


def test_a_lone_string_is_one_choice(ctrls):
    assert filter_controls.mapping_from_values(ctrls, {"gender": "Woman"}) == {"gender": ["Woman"]}


def test_what_the_controls_cannot_show_is_reported(service, ctrls):
    codebook = service.store().codebook
    values, mapping, notices = filter_controls.from_query(
        codebook,
        ctrls,
        {
            "gender": ["Woman", "Martian"],
            "nope": ["1"],
            "yearOfRegistration": ["2015", "~"],
            "isForcedLabour": ["1"],
            "isSexualExploit": ["1"],
        },
    )
    assert mapping["gender"] == ["Woman"]
    assert mapping["yearOfRegistration"] == ["2015"]  # a range cannot hold "no year recorded"
    assert values["yearOfRegistration"] == [2015, 2015]
    assert mapping["isForcedLabour"] == ["1"] and "isSexualExploit" not in mapping
    assert len(notices) == 4
    assert any("Martian" in n for n in notices) and any("unknown filter “nope”" in n for n in notices)
    assert any("range" in n for n in notices) and any("one type" in n for n in notices)


def test_a_filter_of_another_page_is_named_as_such(service, ctrls):
    codebook = service.store().codebook
    assert "isOtherExploit" in codebook
    _, mapping, notices = filter_controls.from_query(
        codebook, [c for c in ctrls if c.kind != "flags"], {"isOtherExploit": ["1"], "gender": ["Man"]}
    )
    assert mapping == {"gender": ["Man"]}
    assert notices == ["Other exploitation is not a filter on this page and was left out."]


def test_sync_from_the_address(service, ctrls):
    search = "?gender=Woman&gender=bogus&ageBroad=48%2B"
    out = sync_callbacks.sync(service, "/", True, search, [None] * len(ctrls), ids_of(ctrls), "/", {})
    new_search, values, notice, mapping = out
    assert new_search is no_update  # the address is left as it was opened
    assert mapping == {"gender": ["Woman"], "ageBroad": ["48+"]}
    by_name = dict(zip([c.name for c in ctrls], values))
    assert by_name["gender"] == ["Woman"] and by_name["ageBroad"] == ["48+"]
    assert by_name["yearOfRegistration"] == [2015, 2019]
    assert "bogus" in str(notice)
    # the same address again changes nothing
    shown = [None if v is no_update else v for v in values]
    again = sync_callbacks.sync(service, "/", True, search, shown, ids_of(ctrls), "/", mapping)
    assert again[1] == [no_update] * len(ctrls) and again[3] is no_update


def test_sync_from_the_controls(service, ctrls):
    values = [[2016, 2016] if c.kind == "years" else (["Man"] if c.name == "gender" else None) for c in ctrls]
    new_search, out_values, notice, mapping = sync_callbacks.sync(
        service, "/", False, "", values, ids_of(ctrls), "/", {}
    )
    assert new_search == "?yearOfRegistration=2016&gender=Man"
    assert mapping == {"yearOfRegistration": ["2016"], "gender": ["Man"]}
    assert notice is None and out_values == [no_update] * len(ctrls)


def test_controls_inserted_with_the_page_read_the_address(service, ctrls):
    # The page was rendered from "?gender=Woman&gender=bogus": its controls show gender Woman.
    values = [
        [2015, 2019] if c.kind == "years" else (["Woman"] if c.name == "gender" else [] if c.kind == "values" else None)
        for c in ctrls
    ]
    new_search, out_values, notice, mapping = sync_callbacks.sync(
        service, "/", False, "?gender=Woman&gender=bogus", values, ids_of(ctrls), "/", {"gender": ["Woman"]}
    )
    assert new_search is no_update and mapping is no_update and out_values == [no_update] * len(ctrls)
    assert "bogus" in str(notice)


def test_sync_ignores_other_pages(service, ctrls):
    with pytest.raises(PreventUpdate):
        sync_callbacks.sync(service, "/", True, "?gender=Man", [None] * len(ctrls), ids_of(ctrls), "/about", {})
    with pytest.raises(PreventUpdate):
        sync_callbacks.sync(service, "/downloads", False, "", [None] * len(ctrls), ids_of(ctrls), "/", {})
