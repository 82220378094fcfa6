"""The comparability panel's arithmetic, on hand-built stores where every count is known."""
from __future__ import annotations

import math

import pytest

from analysis import comparability as cmp
from builders import repeated_rows as rows
from builders import store_from_rows
from data.aggregates import LengthParameters
from data.store import Store

AGE, MONTHS = "ageBroad", "traffickMonths"
A39, A48, M13, M0 = "39--47", "48+", "13--24 (1-2 yrs)", "0--12 (0-1 yr)"
LENGTHS = [LengthParameters(1, 2.0, 4, 4.0, 30.0), LengthParameters(2, 1.0, 9, 3.0, 0.0)]
SD1, SD2 = 4.0, 3.0


def open_store(tmp_path, records, aggregates, **kw):
    path = store_from_rows(tmp_path / "s.duckdb", records, aggregates=aggregates, lengths=LENGTHS,
                           parameters={"epsilon_n": 0.06} if aggregates is not None else {}, **kw)
    return Store(path)


def compare(store, selection):
    comparator = cmp.Comparator.for_store(store)
    return comparator.compare(selection, store.count(store.filter(selection)))


RECORDS = rows((524, {AGE: A39, MONTHS: M13}), (100, {AGE: A39, MONTHS: M0}),
               (60, {AGE: A48, MONTHS: M13}), (40, {AGE: A48}), (30, {"gender": "Woman"}))
# Protected counts (deliberately not the true ones: the noise).
PROTECTED = {f"{AGE}:{A39}": 610, f"{AGE}:{A48}": 95, f"{MONTHS}:{M13}": 590, f"{MONTHS}:{M0}": 110,
             "gender:Woman": 33,
             f"{AGE}:{A39};{MONTHS}:{M13}": 795, f"{AGE}:{A39};{MONTHS}:{M0}": 98}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Read only (the store opens read-only): one for the module."""
    s = open_store(tmp_path_factory.mktemp("comparability"), RECORDS, PROTECTED, record_count=760)
    yield s
    s.close()


def test_published_example_reads_as_a_34_percent_shortfall(store):
    c = compare(store, {AGE: [A39], MONTHS: [M13]})
    assert (c.status, c.synthetic, c.protected) == (cmp.EXACT, 524, 795)
    assert c.difference == -271
    assert cmp.describe_difference(c) == "271 fewer synthetic records: a 34 % shortfall"
    assert cmp.percent(c.score) == "66 %"
    assert cmp.verdict(c).grade == "loose"
    assert c.noise_sd == pytest.approx(SD2)
    low, high = c.interval
    assert (low, high) == pytest.approx((795 - 1.96 * SD2, 795 + 1.96 * SD2), abs=0.01)
    assert not c.within_noise


def test_several_values_sum_every_exact_combination(store):
    c = compare(store, {AGE: [A39], MONTHS: [M13, M0]})
    assert (c.status, c.synthetic, c.protected) == (cmp.EXACT, 624, 795 + 98)
    assert c.noise_sd == pytest.approx(math.sqrt(2) * SD2)
    assert [p.status for p in c.parts] == [cmp.EXACT, cmp.EXACT]


def test_a_suppressed_part_is_named_and_makes_the_sum_a_lower_bound(store):
    c = compare(store, {AGE: [A39, A48], MONTHS: [M13]})
    assert (c.status, c.synthetic, c.protected) == (cmp.LOWER_BOUND, 584, 795)
    [missing] = c.missing_parts
    assert missing.items == ((AGE, A48), (MONTHS, M13))
    assert missing.status == cmp.SUPPRESSED
    assert "Age group 48 and over and Duration of trafficking 13 to 24 months was suppressed" in missing.reason
    assert "threshold of 0.0 for combinations of length 2" in missing.reason
    assert cmp.verdict(c).text.startswith("Measured against a lower bound")


def test_a_single_suppressed_combination_has_no_protected_count(store):
    c = compare(store, {AGE: [A48], MONTHS: [M13]})
    assert (c.status, c.protected, c.score) == (cmp.UNAVAILABLE, None, None)
    assert "was suppressed" in c.reason
    assert "only estimate" in cmp.verdict(c).text


def test_beyond_the_reporting_length_gives_the_tightest_bound(store):
    c = compare(store, {"gender": ["Woman"], AGE: [A39], MONTHS: [M13]})
    assert store.release["reporting_length"] == 2
    assert (c.status, c.protected, c.synthetic) == (cmp.BEYOND, None, 0)
    # Sub-combinations of length 2: (age, months) = 795 released; the two with gender suppressed.
    assert c.bound == 795
    assert "more than the reporting length of 2" in c.reason
    assert "2 of its sub-combinations of length 2 were suppressed" in c.reason
    assert cmp.verdict(c).text == ("The synthetic count is the only estimate for a selection this long; "
                                   "the protected counts only say it is at most 795.")


def test_not_recorded_is_derived_by_subtraction_with_the_summed_noise(store):
    c = compare(store, {AGE: [A39], MONTHS: [None]})
    # n(age 39–47) − n(age 39–47, 13–24) − n(age 39–47, 0–12) − n(age 39–47, 25+): the last is missing.
    assert c.status == cmp.UNAVAILABLE
    assert "1 of the 4 needed were suppressed" in c.reason
    assert "Age group 39–47 and Duration of trafficking More than 24 months" in c.reason


def test_not_recorded_flag_and_record_count_subtraction(tmp_path):
    records = rows((50, {"gender": "Woman", "isForcedLabour": "1"}), (70, {"gender": "Woman"}),
                   (30, {"gender": "Man"}), (10, {"isForcedLabour": "1"}))
    protected = {"gender:Woman": 118, "gender:Man": 31, "isForcedLabour:1": 62,
                 "gender:Woman;isForcedLabour:1": 47, "gender:Man;isForcedLabour:1": 1}
    store = open_store(tmp_path, records, protected, record_count=163)
    try:
        c = compare(store, {"gender": ["Woman"], "isForcedLabour": [None]})
        assert (c.status, c.synthetic, c.protected) == (cmp.DERIVED, 70, 118 - 47)
        assert c.noise_sd == pytest.approx(math.hypot(SD1, SD2))
        # Not recorded alone: the protected record count minus every released value.
        c = compare(store, {"gender": [None]})
        assert (c.status, c.synthetic, c.protected) == (cmp.UNAVAILABLE, 10, None)  # Trans… suppressed
        c = compare(store, {"isForcedLabour": [None]})
        assert (c.status, c.synthetic, c.protected) == (cmp.DERIVED, 100, 163 - 62)
        assert c.noise_sd == pytest.approx(math.hypot(math.sqrt(2) / 0.06, SD1))
        # Both values of the flag: the record count's part plus the released part.
        c = compare(store, {"isForcedLabour": ["1", None]})
        assert (c.status, c.synthetic, c.protected) == (cmp.DERIVED, 160, 163)
    finally:
        store.close()


def test_no_protected_aggregates_says_so(tmp_path):
    store = open_store(tmp_path, RECORDS, None)
    try:
        assert store.release["has_aggregates"] is False
        c = compare(store, {AGE: [A39], MONTHS: [M13]})
        assert (c.status, c.synthetic, c.protected, c.score) == (cmp.NO_AGGREGATES, 524, None, None)
        assert "published no protected counts" in cmp.verdict(c).text
    finally:
        store.close()


def test_the_whole_release_compares_with_the_protected_record_count(store):
    c = compare(store, {})
    assert (c.status, c.synthetic, c.protected) == (cmp.EXACT, 754, 760)
    assert c.noise_sd == pytest.approx(math.sqrt(2) / 0.06)
    assert c.within_noise
    assert cmp.verdict(c).text.endswith("within the noise added to the protected count.")


def test_compare_many_uses_one_lookup(store):
    calls = []

    def lookup(keys):
        calls.append(keys)
        return store.protected_counts(keys)

    comparator = cmp.Comparator.for_store(store, lookup)
    out = comparator.compare_many([({AGE: [v], MONTHS: [M13]}, 0) for v in (A39, A48, None)])
    assert len(calls) == 1
    assert [c.status for c in out] == [cmp.EXACT, cmp.UNAVAILABLE, cmp.UNAVAILABLE]


@pytest.mark.parametrize("synthetic, protected, grade", [(95, 100, "close"), (80, 100, "fair"),
                                                          (100, 160, "loose"), (10, 100, "poor"),
                                                          (0, 0, "close")])
def test_grades(synthetic, protected, grade):
    c = cmp.Comparison(synthetic, cmp.EXACT, protected)
    assert cmp.verdict(c).grade == grade


def test_an_excess_and_a_zero_protected_count():
    assert cmp.describe_difference(cmp.Comparison(120, cmp.EXACT, 100)) == \
        "20 more synthetic records: a 20 % excess"
    c = cmp.Comparison(5, cmp.DERIVED, 0)
    assert (c.relative_difference, c.score) == (None, 0.0)
    assert cmp.describe_difference(c) == "5 more synthetic records"


def test_table_notes_say_where_a_count_came_from_or_why_there_is_none(store):
    facts = cmp.ReleaseFacts.from_release(store.release, store.release_lengths)
    notes = {name: cmp.note(compare(store, selection), facts) for name, selection in {
        "exact": {AGE: [A39]},
        "suppressed": {AGE: [A48], MONTHS: [M13]},
        "lower": {AGE: [A39, A48], MONTHS: [M13]},
        "beyond": {"gender": ["Woman"], AGE: [A39], MONTHS: [M13]},
        "underivable": {AGE: [A39], MONTHS: [None]},
    }.items()}
    assert notes == {"exact": "", "suppressed": "suppressed: at or below the threshold (0.0 at length 2), or absent",
                     "lower": "at least: 1 of 2 parts suppressed",
                     "beyond": "longer than the reporting length 2; at most 795",
                     "underivable": "not derivable: a count it needs is suppressed"}


def test_small_shares_keep_two_significant_digits():
    assert [cmp.percent(x) for x in (0, 0.00023, 0.0123, 0.659, 1)] == ["0 %", "0.023 %", "1 %", "66 %", "100 %"]


def test_views_limit_the_subtractions_they_attempt(store):
    comparator = cmp.Comparator.for_store(store).with_max_terms(3)
    c = comparator.compare({AGE: [A39], MONTHS: [None]}, 0)        # needs 1 + 3 counts
    assert c.status == cmp.UNAVAILABLE and c.parts[0].status == cmp.UNDERIVABLE
    assert cmp.note(c, comparator.facts) == "not derived here: it needs too many counts"
    assert "more than 3 protected counts" in c.reason
