"""The Explore page: its state in the address, and its callbacks called as plain functions."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from dash import Dash, no_update
from dash.exceptions import PreventUpdate

from analysis import explore_counts
from analysis.explore_state import from_search
from builders import repeated_rows as rows
from builders import store_from_rows, text
from callbacks import explore as callbacks
from components import explore, explore_views, ids
from components.explore import ATTRIBUTE, COLS, ROWS, SORT, VALUES, VIEW
from data.aggregates import LengthParameters
from data.service import DataService

AGE, MONTHS = "ageBroad", "traffickMonths"
A39, M13 = "39--47", "13--24 (1-2 yrs)"
NAMES = [ATTRIBUTE, VALUES, VIEW, SORT, ROWS, COLS]
CONTROL_IDS = [{"type": ids.EXPLORE_CONTROL, "name": n} for n in NAMES]
PUBLISHED = f"?{AGE}=39--47&{MONTHS}=13--24+%281-2+yrs%29"


@pytest.fixture(scope="module", autouse=True)
def dash_app():
    return Dash(__name__)  # chart cards' asset URLs need an app


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    records = rows(
        (524, {AGE: A39, MONTHS: M13, "gender": "Woman"}),
        (100, {AGE: A39, "gender": "Man"}),
        (60, {AGE: "48+", MONTHS: M13}),
        (30, {"gender": "Woman", "isForcedLabour": "1"}),
    )
    protected = {
        f"{AGE}:{A39}": 630,
        f"{AGE}:48+": 55,
        f"{MONTHS}:{M13}": 590,
        "gender:Woman": 560,
        "gender:Man": 98,
        "isForcedLabour:1": 28,
        f"{AGE}:{A39};{MONTHS}:{M13}": 795,
        f"{AGE}:{A39};gender:Woman": 520,
        f"{AGE}:{A39};gender:Man": 101,
        f"{AGE}:{A39};gender:Trans/Transgender/NonConforming": 3,
        f"{MONTHS}:{M13};gender:Woman": 515,
        "gender:Woman;isForcedLabour:1": 27,
    }
    path = store_from_rows(
        tmp_path_factory.mktemp("explore") / "s.duckdb",
        records,
        aggregates=protected,
        record_count=716,
        parameters={"epsilon_n": 0.06},
        lengths=[LengthParameters(1, 2.0, 4, 4.0, 30.0), LengthParameters(2, 1.0, 9, 3.0, 0.0)],
    )
    return DataService(path)


def hrefs(component) -> list[str]:
    if isinstance(component, (list, tuple)):
        return [h for c in component for h in hrefs(c)]
    if component is None or isinstance(component, (str, int, float, bool)):
        return []
    own = [component.href] if getattr(component, "href", None) else []
    return own + hrefs(getattr(component, "children", None))


def sync(service, trigger, search, values=None, shown=None, pathname="/explore"):
    values = values or {}
    return callbacks.sync(
        service,
        trigger,
        search,
        [values.get(n) for n in NAMES],
        CONTROL_IDS,
        [shown] if shown is not None else [{}],
        pathname,
    )


# --- the address -----------------------------------------------------------------------------------


def test_state_round_trips_through_the_address(service):
    codebook = service.store().codebook
    search = "?gender=Woman&gender=~&ageBroad=39--47&_view=gender&_sort=synthetic&_rows=gender&_cols=ageBroad"
    state = from_search(codebook, search)
    assert state.filter.as_dict() == {"gender": ["Woman", None], AGE: [A39]}
    assert (state.view, state.sort, state.rows, state.cols, state.notices) == ("gender", "synthetic", "gender", AGE, ())
    assert parse_qs(state.search()[1:]) == parse_qs(search[1:])
    assert from_search(codebook, state.search()) == state


def test_invalid_parts_are_dropped_with_a_notice(service):
    codebook = service.store().codebook
    state = from_search(
        codebook, "?gender=Nobody&nosuch=1&ageBroad=39--47&_view=zzz&_sort=up&_rows=gender&_cols=gender"
    )
    assert state.filter.as_dict() == {AGE: [A39]}
    assert (state.view, state.sort, state.rows, state.cols) == ("*", "order", "gender", None)
    assert len(state.notices) == 5
    assert "“Nobody”, which is not a value of Gender" in " ".join(state.notices)
    chips, notice, _ = callbacks.render_selection(service, state.data())
    assert "not understood" in text(notice) and "nosuch" in text(notice)


# --- the sync between address and controls ---------------------------------------------------------


def test_a_new_address_sets_the_controls(service):
    address, values, options, disabled, shown = sync(
        service,
        ids.URL,
        "?gender=Woman&gender=~&_sort=protected&_rows=gender",
        {ATTRIBUTE: "gender", VALUES: [], VIEW: "*", SORT: "order"},
    )
    assert address is no_update
    assert dict(zip(NAMES, values)) == {
        ATTRIBUTE: no_update,
        VALUES: ["Woman", "~"],
        VIEW: no_update,
        SORT: "protected",
        ROWS: "gender",
        COLS: no_update,
    }
    value_options = options[NAMES.index(VALUES)]
    assert [o["value"] for o in value_options] == ["Man", "Woman", "Trans/Transgender/NonConforming", "~"]
    assert value_options[1]["label"] == "Woman (554)"  # under the other selections: none
    assert disabled[NAMES.index(VALUES)] is False
    assert shown == [{"search": "?gender=Woman&gender=~&_sort=protected&_rows=gender", "notices": []}]


def test_without_an_attribute_the_values_are_disabled(service):
    _, values, options, disabled, _ = sync(service, None, "", {VIEW: "*", SORT: "order"})
    assert values[NAMES.index(VALUES)] is no_update and options[NAMES.index(VALUES)] == []
    assert disabled[NAMES.index(VALUES)] is True


def test_choosing_values_writes_the_address(service):
    trigger = {"type": ids.EXPLORE_CONTROL, "name": VALUES}
    address, *_, shown = sync(service, trigger, "?_view=gender", {ATTRIBUTE: AGE, VALUES: [A39, "~", "not-a-value"]})
    assert address == "?ageBroad=39--47&ageBroad=~&_view=gender"
    assert shown == [{"search": address, "notices": []}]
    address, *_ = sync(service, trigger, address, {ATTRIBUTE: AGE, VALUES: []})
    assert address == "?_view=gender"


def test_view_sort_and_cross_tab_controls_write_the_address(service):
    def change(name, value, search=""):
        return sync(service, {"type": ids.EXPLORE_CONTROL, "name": name}, search, {name: value})[0]

    assert change(VIEW, "gender") == "?_view=gender"
    assert change(VIEW, "*", "?_view=gender") == ""
    assert change(SORT, "difference") == "?_sort=difference"
    assert change(ROWS, "gender") == "?_rows=gender"
    # choosing the columns' attribute for the rows swaps the two
    assert change(ROWS, AGE, "?_rows=gender&_cols=ageBroad") == "?_rows=ageBroad&_cols=gender"
    assert change(COLS, None, "?_rows=gender&_cols=ageBroad") == "?_rows=gender"


@pytest.mark.parametrize("bad", [["gender"], [["Woman"]], 3, True, {"a": 1}])
def test_controls_ignore_values_that_are_not_text(service, bad):
    def change(name, value, search="?_view=gender&_sort=synthetic&_rows=gender&_cols=ageBroad", **others):
        return sync(service, {"type": ids.EXPLORE_CONTROL, "name": name}, search, {name: value, **others})

    assert change(VIEW, bad)[0] == "?_sort=synthetic&_rows=gender&_cols=ageBroad"
    assert change(SORT, bad)[0] == "?_view=gender&_rows=gender&_cols=ageBroad"
    assert change(ROWS, bad)[0] == "?_view=gender&_sort=synthetic&_cols=ageBroad"
    assert change(COLS, bad)[0] == "?_view=gender&_sort=synthetic&_rows=gender"
    # the values: anything but text among them is left out; an attribute that is not text is none
    assert change(VALUES, bad, "?_view=gender", **{ATTRIBUTE: AGE})[0] is no_update
    assert change(VALUES, [bad, A39], "?_view=gender", **{ATTRIBUTE: AGE})[0] == "?ageBroad=39--47&_view=gender"
    with pytest.raises(PreventUpdate):
        change(VALUES, [A39], "", **{ATTRIBUTE: bad})
    _, _, options, disabled, _ = sync(service, ids.URL, "?gender=Woman", {ATTRIBUTE: bad, VALUES: bad})
    assert options[NAMES.index(VALUES)] == [] and disabled[NAMES.index(VALUES)] is True
    _, _, _, disabled, _ = sync(service, {"type": ids.EXPLORE_CONTROL, "name": ATTRIBUTE}, "", {ATTRIBUTE: bad})
    assert disabled[NAMES.index(VALUES)] is True


def test_sync_does_nothing_on_another_page(service):
    with pytest.raises(PreventUpdate):
        sync(service, ids.URL, "?gender=Woman", pathname="/")


# --- the rendered parts ----------------------------------------------------------------------------


def test_panel_reads_the_published_example(service):
    state = from_search(service.store().codebook, PUBLISHED)
    chips, notice, panel = callbacks.render_selection(service, state.data())
    words = text(panel)
    assert "524" in words and "795" in words
    assert "271 fewer synthetic records: a 34 % shortfall" in words
    assert "66 %" in words and "loose" in words
    assert "95 % noise interval 789 to 801" in words
    assert notice is None
    assert "Age group" in text(chips) and "13 to 24 months" in text(chips)
    # each chip removes its own value; "clear all" removes every filter
    links = hrefs(chips)
    assert f"/explore?{MONTHS}=13--24+%281-2+yrs%29" in links
    assert "/explore?ageBroad=39--47" in links
    assert "/explore" in links


def test_panel_without_filters_compares_the_record_counts(service):
    _, _, panel = callbacks.render_selection(service, {"search": "", "notices": []})
    words = text(panel)
    assert "714" in words and "716" in words and "All records" in words


def test_per_attribute_view_sets_each_value_beside_its_protected_count(service):
    state = from_search(service.store().codebook, "?ageBroad=39--47&_view=gender&_sort=synthetic")
    values = explore_counts.value_rows(explore_counts.context(service), state, ["gender"])["gender"]
    assert (values.with_records, values.complete) == (2, True)
    rows = explore_counts.sort_rows(values.rows, state.sort)
    # gender under age 39–47: Woman 524 (protected 520), Man 100 (101), Trans 0 (3),
    # not recorded 0 (derived: 630 − 520 − 101 − 3)
    assert [
        (r.label, r.synthetic, r.protected, explore_views.protected_text(r.comparison), r.comparison.status)
        for r in rows
    ] == [
        ("Woman", 524, 520, "520", "exact"),
        ("Man", 100, 101, "101", "exact"),
        ("Trans, transgender or non-conforming", 0, 3, "3", "exact"),
        ("not recorded", 0, 6, "6", "derived"),
    ]
    words = text(callbacks.render_view(service, state.data()))
    assert "Gender: synthetic and protected counts" in words
    assert "derived by subtraction" in words  # the table alternative's note


def test_small_multiples_compare_only_the_values_they_show(service):
    ctx = explore_counts.context(service)
    values = explore_counts.value_rows(ctx, from_search(ctx.codebook, ""), ["gender"], limit=1)["gender"]
    # Woman (554) has the most records; Man (100) and the unrecorded (60) are left out
    assert [(r.label, r.synthetic) for r in values.rows] == [("Woman", 554)]
    assert (values.with_records, values.complete) == (3, False)
    # a chosen value is always shown
    values = explore_counts.value_rows(ctx, from_search(ctx.codebook, "?gender=Man"), ["gender"], limit=1)["gender"]
    assert [r.label for r in values.rows] == ["Man", "Woman"]


def test_flags_of_one_group_share_a_small_multiple(tmp_path):
    path = store_from_rows(
        tmp_path / "flags.duckdb",
        rows((4, {"isForcedLabour": "1"}), (3, {"isSexualExploit": "1"}), (2, {"gender": "Man"})),
        aggregates={"isForcedLabour:1": 5, "isSexualExploit:1": 3, "gender:Man": 2},
    )
    service = DataService(path)
    words = text(callbacks.render_view(service, {"search": "?isForcedLabour=~", "notices": []}))
    assert "Exploitation type" in words and "2 flags of exploitation type" in words
    # the flag's value row, the chosen "not recorded" row and the other flag's row, each with its counts
    assert "Forced labour 4 5 Forced labour: not recorded 5 4 Sexual exploitation 3 ≤ 3" in words


def test_small_multiples_cover_every_attribute(service):
    view = callbacks.render_view(service, {"search": "?gender=Woman", "notices": []})
    words = text(view)
    for attribute in service.store().codebook:
        assert attribute.label in words
    # gender itself is counted under the other filters (none), so every value shows, with its counts
    assert "value synthetic protected Man 100 98 Woman 554 560 not recorded 60" in words
    # beyond the reporting length (2 here) a value shows the bound its sub-combinations give:
    # months 13–24 with Woman and 39–47 is at most min(795, 520, 515)
    words = text(callbacks.render_view(service, {"search": "?gender=Woman&ageBroad=39--47", "notices": []}))
    assert "≤ 515" in words


def test_cross_tab_shows_three_grids_and_skips_needless_redraws(service):
    data = {"search": "?_rows=gender&_cols=ageBroad", "notices": []}
    content, key = callbacks.render_crosstab(service, data, None)
    words = text(content)
    assert "Synthetic records: Gender by Age group" in words
    assert "Protected counts: Gender by Age group" in words
    assert "Synthetic minus protected: Gender by Age group" in words
    with pytest.raises(PreventUpdate):
        callbacks.render_crosstab(service, {"search": "?_rows=gender&_cols=ageBroad&_view=gender", "notices": []}, key)
    # with another filter, cells are longer than the reporting length (2): bounds only
    content, _ = callbacks.render_crosstab(
        service, {"search": f"?{MONTHS}=13--24+%281-2+yrs%29&_rows=gender&_cols=ageBroad", "notices": []}, None
    )
    words = text(content)
    assert "No protected counts for these cells" in words and "Synthetic minus protected" not in words


def test_cross_tab_cells_compare_each_pair(service):
    ctx = explore_counts.context(service)
    data = explore_counts.crosstab_data(ctx, from_search(ctx.codebook, "?gender=Man&_rows=gender&_cols=ageBroad"))
    assert data.ys == ["Man", "Woman", None] and data.xs == [A39, "48+", None]  # values with records
    woman = data.cells["Woman", A39]
    assert (woman.synthetic, woman.protected, woman.status) == (524, 520, "exact")
    assert data.cells["Man", A39].protected == 101
    assert data.cells[None, "48+"].synthetic == 60


def test_the_page_renders_for_any_address(service):
    for query in (
        {},
        parse_qs(PUBLISHED[1:]),
        {"_view": ["gender"], "_rows": ["gender"], "_cols": [AGE]},
        {"gender": ["nope"]},
    ):
        assert "Data comparability" in text(explore.layout(service, query))


def test_a_release_without_protected_counts_says_so(tmp_path):
    path = store_from_rows(tmp_path / "plain.duckdb", rows((5, {"gender": "Woman"}), (3, {"gender": "Man"})))
    service = DataService(path)
    _, _, panel = callbacks.render_selection(service, {"search": "?gender=Woman", "notices": []})
    words = text(panel)
    assert "not published" in words and "published no protected counts" in words
    view = callbacks.render_view(service, {"search": "?_view=gender", "notices": []})
    assert "no protected counts published" in text(view)
