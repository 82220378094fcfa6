"""The comparability panel's arithmetic, on hand-built stores where every count is known."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from analysis import comparability as cmp
from analysis import comparison_text as cmp_words
from builders import repeated_rows as rows
from builders import store_from_rows
from data.aggregates import LengthParameters
from data.store import Store

AGE, MONTHS = "ageBroad", "traffickMonths"
A39, A48, M13, M0 = "39--47", "48+", "13--24 (1-2 yrs)", "0--12 (0-1 yr)"
LENGTHS = [LengthParameters(1, 2.0, 4, 4.0, 30.0), LengthParameters(2, 1.0, 9, 3.0, 0.0)]
SD1, SD2 = 4.0, 3.0


def open_store(tmp_path, records, aggregates, **kw):
    path = store_from_rows(
        tmp_path / "s.duckdb",
        records,
        aggregates=aggregates,
        lengths=LENGTHS,
        parameters={"epsilon_n": 0.06} if aggregates is not None else {},
        **kw,
    )
    return Store(path)


def compare(store, selection):
    comparator = cmp.Comparator.for_store(store)
    return comparator.compare(selection, store.count(store.filter(selection)))


RECORDS = rows(
    (524, {AGE: A39, MONTHS: M13}),
    (100, {AGE: A39, MONTHS: M0}),
    (60, {AGE: A48, MONTHS: M13}),
    (40, {AGE: A48}),
    (30, {"gender": "Woman"}),
)
# Protected counts (deliberately not the true ones: the noise).
PROTECTED = {
    f"{AGE}:{A39}": 610,
    f"{AGE}:{A48}": 95,
    f"{MONTHS}:{M13}": 590,
    f"{MONTHS}:{M0}": 110,
    "gender:Woman": 33,
    f"{AGE}:{A39};{MONTHS}:{M13}": 795,
    f"{AGE}:{A39};{MONTHS}:{M0}": 98,
}


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
    assert cmp_words.describe_difference(c) == "271 fewer synthetic records: a 34 % shortfall"
    assert cmp_words.percent(c.score) == "66 %"
    assert cmp_words.verdict(c).grade == "loose"
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
    assert cmp_words.verdict(c).text.startswith("Measured against a lower bound")


def test_a_single_suppressed_combination_has_no_protected_count(store):
    c = compare(store, {AGE: [A48], MONTHS: [M13]})
    assert (c.status, c.protected, c.score) == (cmp.UNAVAILABLE, None, None)
    assert "was suppressed" in c.reason
    assert "only estimate" in cmp_words.verdict(c).text


def test_beyond_the_reporting_length_gives_the_tightest_bound(store):
    c = compare(store, {"gender": ["Woman"], AGE: [A39], MONTHS: [M13]})
    assert store.release["reporting_length"] == 2
    assert (c.status, c.protected, c.synthetic) == (cmp.BEYOND, None, 0)
    # Sub-combinations of length 2: (age, months) = 795 released; the two with gender suppressed.
    assert c.bound == 795
    assert "more than the reporting length of 2" in c.reason
    assert "2 of its sub-combinations of length 2 were suppressed" in c.reason
    assert cmp_words.verdict(c).text == (
        "The synthetic count is the only estimate for a selection this long; "
        "the protected counts only say it is at most 795."
    )


def test_not_recorded_is_derived_by_subtraction_with_the_summed_noise(store):
    c = compare(store, {AGE: [A39], MONTHS: [None]})
    # n(age 39–47) − n(age 39–47, 13–24) − n(age 39–47, 0–12) − n(age 39–47, 25+): the last is missing.
    assert c.status == cmp.UNAVAILABLE
    assert "1 of the 4 needed were suppressed" in c.reason
    assert "Age group 39–47 and Duration of trafficking More than 24 months" in c.reason


def test_not_recorded_flag_and_record_count_subtraction(tmp_path):
    records = rows(
        (50, {"gender": "Woman", "isForcedLabour": "1"}),
        (70, {"gender": "Woman"}),
        (30, {"gender": "Man"}),
        (10, {"isForcedLabour": "1"}),
    )
    protected = {
        "gender:Woman": 118,
        "gender:Man": 31,
        "isForcedLabour:1": 62,
        "gender:Woman;isForcedLabour:1": 47,
        "gender:Man;isForcedLabour:1": 1,
    }
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
        assert "published no protected counts" in cmp_words.verdict(c).text
    finally:
        store.close()


def test_the_whole_release_compares_with_the_protected_record_count(store):
    c = compare(store, {})
    assert (c.status, c.synthetic, c.protected) == (cmp.EXACT, 754, 760)
    assert c.noise_sd == pytest.approx(math.sqrt(2) / 0.06)
    assert c.within_noise
    assert cmp_words.verdict(c).text.endswith("within the noise added to the protected count.")


def test_compare_many_uses_one_lookup(store):
    calls = []

    def lookup(keys):
        calls.append(keys)
        return store.protected_counts(keys)

    comparator = cmp.Comparator.for_store(store, lookup)
    out = comparator.compare_many([({AGE: [v], MONTHS: [M13]}, 0) for v in (A39, A48, None)])
    assert len(calls) == 1
    assert [c.status for c in out] == [cmp.EXACT, cmp.UNAVAILABLE, cmp.UNAVAILABLE]


@pytest.mark.parametrize(
    "synthetic, protected, grade",
    [(95, 100, "close"), (80, 100, "fair"), (100, 160, "loose"), (10, 100, "poor"), (0, 0, "close")],
)
def test_grades(synthetic, protected, grade):
    c = cmp.Comparison(synthetic, cmp.EXACT, protected)
    assert cmp_words.verdict(c).grade == grade


def test_an_excess_and_a_zero_protected_count():
    assert (
        cmp_words.describe_difference(cmp.Comparison(120, cmp.EXACT, 100)) == "20 more synthetic records: a 20 % excess"
    )
    c = cmp.Comparison(5, cmp.DERIVED, 0)
    assert (c.relative_difference, c.score) == (None, 0.0)
    assert cmp_words.describe_difference(c) == "5 more synthetic records"


def test_table_notes_say_where_a_count_came_from_or_why_there_is_none(store):
    facts = cmp.ReleaseFacts.from_release(store.release, store.release_lengths)
    notes = {
        name: cmp_words.note(compare(store, selection), facts)
        for name, selection in {
            "exact": {AGE: [A39]},
            "suppressed": {AGE: [A48], MONTHS: [M13]},
            "lower": {AGE: [A39, A48], MONTHS: [M13]},
            "beyond": {"gender": ["Woman"], AGE: [A39], MONTHS: [M13]},
            "underivable": {AGE: [A39], MONTHS: [None]},
        }.items()
    }
    assert notes == {
        "exact": "",
        "suppressed": "suppressed: at or below the threshold (0.0 at length 2), or absent",
        "lower": "at least: 1 of 2 parts suppressed",
        "beyond": "longer than the reporting length 2; at most 795",
        "underivable": "not derivable: a count it needs is suppressed",
    }


def test_small_shares_keep_two_significant_digits():
    assert [cmp_words.percent(x) for x in (0, 0.00023, 0.0123, 0.659, 1)] == ["0 %", "0.023 %", "1 %", "66 %", "100 %"]


def test_views_limit_the_subtractions_they_attempt(store):
    comparator = cmp.Comparator.for_store(store).with_max_terms(3)
    c = comparator.compare({AGE: [A39], MONTHS: [None]}, 0)  # needs 1 + 3 counts
    assert c.status == cmp.UNAVAILABLE and c.parts[0].status == cmp.UNDERIVABLE
    assert cmp_words.note(c, comparator.facts) == "not derived here: it needs too many counts"
    assert "more than 3 protected counts" in c.reason


# --- the difference read against the noise first (#12) ---------------------------------------------


def test_the_verdict_reads_the_noise_before_the_relative_grade(store):
    c = compare(store, {AGE: [A39], MONTHS: [M13]})  # 524 against 795, noise sd 3
    assert c.z == pytest.approx(-271 / SD2)
    text = cmp_words.verdict(c).text
    beyond = f"Beyond the noise by {271 - cmp.Z95 * SD2:,.0f} records (z = {cmp_words.signed_z(-271 / SD2)})."
    assert text.startswith(beyond)
    assert text.index(beyond) < text.index("Loose:")
    assert f"± {cmp.Z95 * SD2:.1f} records 95 % of the time" in text


def test_a_difference_inside_the_noise_interval_reads_within_the_noise(store):
    c = compare(store, {})  # 754 against 760, the record count's noise
    sd = math.sqrt(2) / 0.06
    text = cmp_words.verdict(c).text
    assert text.startswith(f"Within the noise (z = {cmp_words.signed_z(-6 / sd)}).")
    assert text.index("Within the noise") < text.index("Close:")
    assert f"{6 / sd:.1f} standard deviations of the noise" in text


def test_without_a_published_noise_only_the_grade_reads_the_difference():
    c = cmp.Comparison(95, cmp.EXACT, 100)
    assert c.z is None and c.within_noise is None
    text = cmp_words.verdict(c).text
    assert text.startswith("Close:") and "does not say how much noise" in text


def test_signed_z_uses_a_true_minus_sign():
    assert [cmp_words.signed_z(z) for z in (-2.44, 0.26, 0.0)] == ["−2.4", "+0.3", "+0.0"]


# --- beyond the reporting length: a lower bound beside the upper one (#12) -----------------------


def test_a_long_selection_reads_between_a_lower_and_an_upper_bound(tmp_path):
    records = rows(
        (50, {"gender": "Woman", AGE: A39, MONTHS: M13}),
        (10, {"gender": "Woman", AGE: A39}),
        (5, {"gender": "Woman", MONTHS: M13}),
        (20, {AGE: A39, MONTHS: M13}),
        (15, {"gender": "Woman"}),
    )
    protected = {
        "gender:Woman": 80,
        f"{AGE}:{A39}": 80,
        f"{MONTHS}:{M13}": 75,
        f"{AGE}:{A39};gender:Woman": 60,
        f"{MONTHS}:{M13};gender:Woman": 55,
        f"{AGE}:{A39};{MONTHS}:{M13}": 70,
    }
    store = open_store(tmp_path, records, protected, record_count=100)
    try:
        c = compare(store, {"gender": ["Woman"], AGE: [A39], MONTHS: [M13]})
        # Upper: min(60, 55, 70). Lower, best T: age 60 + 70 − 80 = 50, months 55 + 70 − 75 = 50
        # (gender: 60 + 55 − 80 = 35), less 1.96 sd of the noise of two counts of length 2 and one of 1.
        lower = math.floor(50 - cmp.Z95 * math.sqrt(2 * SD2**2 + SD1**2))
        assert (c.status, c.synthetic, c.lower, c.bound) == (cmp.BEYOND, 50, lower, 55)
        assert c.noise_sd == pytest.approx(SD2)  # the upper bound's: one count of length 2
        assert lower > 0
        assert cmp_words.verdict(c).text.endswith(f"the protected counts only say it is between {lower} and 55.")
        assert cmp_words.note(c, cmp.Comparator.for_store(store).facts).endswith(f"; between {lower} and 55")
        # A "not recorded" item has no lower bound: the counts bound only the recorded items.
        c = compare(store, {"gender": ["Woman"], AGE: [A39], MONTHS: [None]})
        assert (c.status, c.lower, c.bound) == (cmp.BEYOND, 0, 60)
    finally:
        store.close()


def test_a_synthetic_count_outside_the_bounds_is_flagged_beyond_the_noise():
    c = cmp.Comparison(10, cmp.BEYOND, bound=55, lower=50, noise_sd=SD2)
    assert "below 50, the least the protected counts allow" in cmp_words.verdict(c).text
    # Above the upper bound, a released count: flagged only past its noise (1.96 × 3 = 5.9).
    c = cmp.Comparison(60, cmp.BEYOND, bound=55, lower=50, noise_sd=SD2)
    assert cmp_words.verdict(c).text.endswith(
        "only say it is between 50 and 55. The synthetic count is above the upper bound by less than the bound's noise."
    )
    c = cmp.Comparison(61, cmp.BEYOND, bound=55, lower=50, noise_sd=SD2)
    assert "above 55, the most the protected counts allow, by more than their noise" in cmp_words.verdict(c).text
    assert cmp_words.describe_bounds(cmp.Comparison(10, cmp.BEYOND, lower=50)) == "at least 50"


def skewed_rows(n: int, rng: random.Random) -> list[dict]:
    """Records whose commonest values are common enough for the lower bound to bite (with
    independent values of about even shares it is 0), the rest rare enough to be suppressed."""
    domains = {
        "gender": ["Woman", "Man", "Trans/Transgender/NonConforming"],
        AGE: [A39, A48, "18--20"],
        MONTHS: [M13, M0],
        "CountryOfExploitation": ["USA", "UKR"],
        "isForcedLabour": ["1"],
        "isSexualExploit": ["1"],
    }
    return [
        {a: (values[0] if rng.random() < 0.85 else rng.choice(values[1:] + [None])) for a, values in domains.items()}
        for _ in range(n)
    ]


@pytest.mark.parametrize("reporting_length, noise", [(1, 0.0), (2, 0.0), (3, 0.0), (2, 3.0)])
def test_the_bounds_hold_on_random_records_by_brute_force(tmp_path, reporting_length, noise):
    """Protected counts = the true ones (rare ones suppressed): every selection longer than the
    reporting length has lower ≤ true count ≤ upper, and the lower bound is often above 0. With
    Gaussian noise on the counts, the lower bound stays under the true count for at least 95 % of
    the selections (its allowance is 1.96 sd of its noise)."""
    rng = random.Random(reporting_length)
    records = skewed_rows(400, rng)
    exact: dict[tuple, int] = {}
    for record in records:
        present = sorted((a, v) for a, v in record.items() if v is not None)
        for k in range(1, reporting_length + 1):
            for combo in itertools.combinations(present, k):
                exact[combo] = exact.get(combo, 0) + 1
    protected = {
        ";".join(f"{a}:{v}" for a, v in combo): max(0, round(n + rng.gauss(0, noise)))
        for combo, n in exact.items()
        if n > 3
    }
    sd = noise or 1.0
    lengths = [LengthParameters(k, 1.0, 1, sd, 3.0) for k in range(1, reporting_length + 1)]
    path = store_from_rows(
        tmp_path / "r.duckdb",
        records,
        aggregates=protected,
        lengths=lengths,
        record_count=len(records),
        parameters={"epsilon_n": math.sqrt(2) / sd},
    )
    store = Store(path)
    names = list(records[0])
    positive, above = 0, 0
    try:
        assert store.release["reporting_length"] == reporting_length
        for _ in range(80):
            chosen = rng.sample(names, rng.randint(reporting_length + 1, len(names)))
            domains = {a: sorted({r[a] for r in records if r[a]}) for a in chosen}
            selection = {
                a: rng.sample(values, min(len(values), rng.choice([1, 1, 2]))) for a, values in domains.items()
            }
            c = compare(store, selection)
            assert c.status == cmp.BEYOND
            above += c.lower > c.synthetic
            assert noise or c.bound is None or c.synthetic <= c.bound, selection
            positive += c.lower > 0
    finally:
        store.close()
    assert above <= (0.05 * 80 if noise else 0)
    assert positive >= 5
