"""The synthesize stage: SDS's aggregate-seeded sampler (the baseline) and the default synthesizer.

Every test synthesizes from aggregates made by the real privacy core (`privacy.aggregate`) on
demonstration records (stand-ins, not real people).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from bench.inputs import varied_frame
from builders import (
    SYNTH_COLUMNS,
    aggregate_dataset,
    categorical_attribute,
    demo_dataset,
    unlisted_counts,
)
from data.aggregates import ProtectedAggregates
from data.codebook import Codebook
from data.dataset import ItemSpace, load_csv
from synth_engine.constraints import fit_rules, implication_violations
from synth_engine.evaluate import (
    aggregate_counts,
    combination_incidence,
    compare,
    count_combinations,
)
from synth_engine.sds import _percentile_rows, synthesize_sds
from synth_engine.synthesize import synthesize, synthesize_default


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """20,000 x 14 records, their aggregates (ε = 12, δ = 3.9e-7, R = 3) and both syntheses."""
    dataset = demo_dataset(tmp_path_factory, 20_000, 7, SYNTH_COLUMNS, "medium")
    aggregates = aggregate_dataset(dataset, seed=1, epsilon=12, delta=3.9e-7, reporting_length=3)
    default = synthesize_default(aggregates, np.random.default_rng(11))
    sds = synthesize_sds(aggregates, np.random.default_rng(11))
    return dataset, aggregates, default, sds


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    """A varied input (bench/inputs.py: complete columns, two long-tailed country columns, sparse
    flags, planted implications), 20,000 x 30, its aggregates (R = 3) and both syntheses."""
    path = tmp_path_factory.mktemp("varied") / "varied.csv"
    varied_frame(20_000, seed=5, flags=15, countries=60).to_csv(path, index=False)
    dataset = load_csv(path)
    aggregates = aggregate_dataset(dataset, seed=2, reporting_length=3)
    default = synthesize_default(aggregates, np.random.default_rng(12))
    sds = synthesize_sds(aggregates, np.random.default_rng(12))
    return dataset, aggregates, default, sds


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """3,000 x 9 records and their aggregates: for the quick properties."""
    dataset = demo_dataset(tmp_path_factory, 3_000, 3, SYNTH_COLUMNS[:9], "small")
    return dataset, aggregate_dataset(dataset, seed=2, reporting_length=3)


def _fabricated(codes, aggregates):
    """Per record, its combinations of length <= R that the aggregates do not hold."""
    _, outside = combination_incidence(
        codes, aggregates.items, aggregate_counts(aggregates), aggregates.reporting_length
    )
    return outside


def _noise_figures(codes, aggregates, rules):
    """Per length, over protected counts >= 10: mean |z|, mean |z| per count bucket, the share
    inside the 95 % noise interval and the largest |z|; z = (synthetic − protected) / noise sd."""
    protected = aggregate_counts(aggregates)
    synthetic = count_combinations(codes, aggregates.items, aggregates.reporting_length)
    figures = {}
    for k in protected.keys:
        target = protected.counts[k].astype(float)
        z = np.abs(synthetic.lookup(k, protected.keys[k]) - target) / rules.noise_sd[k - 1]
        big = target >= 10
        buckets = [
            z[big & (target >= low) & (target < (10 * low if low < 10_000 else np.inf))]
            for low in (10, 100, 1_000, 10_000)
        ]
        figures[k] = {
            "mean": z[big].mean(),
            "buckets": [b.mean() for b in buckets if len(b)],
            "cover": np.mean(z[big] <= 1.96),
            "max": z[big].max(),
        }
    return figures


@pytest.mark.parametrize("case", ["medium", "varied"])
def test_default_fits_the_protected_counts_in_noise_units(case, request):
    """The issue's targets, unchanged: they are in units of the noise, which does not shrink with
    the input, so a smaller input is no easier: at every length, over protected counts >= 10,
    mean |z| <= 1 and <= 2 in every count bucket, >= 95 % inside the 95 % noise interval,
    largest |z| <= 10 at lengths 1 and 2 (records exactly like the true ones: mean |z| ~0.8).
    On the demonstration stand-in and on a varied input (complete columns, long-tailed country
    columns, sparse flags)."""
    aggregates, default = request.getfixturevalue(case)[1:3]
    rules = fit_rules(aggregates, aggregates.reporting_length)
    figures = _noise_figures(default.codes, aggregates, rules)
    for k, f in figures.items():
        assert f["mean"] <= 1.0, (k, f)
        assert max(f["buckets"]) <= 2.0, (k, f)
        assert f["cover"] >= 0.95, (k, f)
        if k <= 2:
            assert f["max"] <= 10, (k, f)
    assert len(default.codes) == aggregates.record_count


def test_default_does_better_than_sds_in_noise_units(medium):
    _, aggregates, default, sds = medium
    rules = fit_rules(aggregates, aggregates.reporting_length)
    ours = _noise_figures(default.codes, aggregates, rules)
    theirs = _noise_figures(sds.codes, aggregates, rules)
    for k in (2, 3):
        assert ours[k]["mean"] <= 0.75 * theirs[k]["mean"]


@pytest.mark.parametrize("case", ["medium", "varied"])
def test_unlisted_combinations_stay_within_the_noise(case, request):
    """A combination the release does not list is made at most threshold + 1.96 noise sd times;
    SDS's sampler makes none."""
    aggregates, default, sds = request.getfixturevalue(case)[1:4]
    rules = fit_rules(aggregates, aggregates.reporting_length)
    assert not _fabricated(sds.codes, aggregates).any()
    made = 0
    for k in range(1, aggregates.reporting_length + 1):
        unlisted = unlisted_counts(default.codes, aggregates, k)
        assert (unlisted <= rules.caps[k - 1]).all(), k
        made += len(unlisted)
    assert made > 0  # the bound is what holds them, not a rule against any


def test_planted_implications_and_complete_columns_hold(varied):
    """The varied input plants subtypeA -> flagA, routeX -> flagA and sector -> labour, and has
    complete columns: the protected counts show them, and the synthetic records keep them."""
    _, aggregates, default, _ = varied
    items = aggregates.items
    rules = fit_rules(aggregates, aggregates.reporting_length)
    implied = {(items.texts[b], items.texts[a]) for a, b in zip(rules.antecedent, rules.consequent)}
    assert ("subtypeA:1", "flagA:1") in implied
    sectors = [text for text in items.texts if text.startswith("sector:")]
    assert len({b for b, a in implied if a == "labour:1"} & set(sectors)) >= len(sectors) // 2
    assert implication_violations(default.codes, rules, items) == 0
    names = items.codebook.names
    complete = {names[j] for j in np.flatnonzero(rules.complete)}
    assert {"sex", "cohort", "region", "source"} <= complete
    assert "stage" not in complete and "origin" not in complete
    for j in np.flatnonzero(rules.complete):
        assert (default.codes[:, j] > 0).all(), names[j]
    holders = default.codes[:, names.index("subtypeA")] > 0
    assert holders.sum() > 100


def _wide_tail_frame(rows: int, rng) -> pd.DataFrame:
    """Three complete columns, one missing in 3 % of the records and 40 flags: most records hold
    a few flags, 0.9 % hold all of them, far above the 99th percentile of the records' widths."""
    wide = rng.random(rows) < 0.009
    frame = {
        "sex": rng.choice(["female", "male", "other"], rows),
        "region": rng.choice(["north", "south", "east", "west", "centre"], rows),
        "cohort": rng.choice([f"y{y}" for y in range(2010, 2020)], rows),
        "stage": np.where(rng.random(rows) < 0.03, "", rng.choice(["child", "adult"], rows)),
    }
    for i in range(40):
        frame[f"flag{i:02d}"] = np.where(wide | (rng.random(rows) < 0.05), "1", "")
    return pd.DataFrame(frame)


def test_complete_columns_are_found_through_the_truncation(tmp_path):
    """A record over Δ_1 items keeps only Δ_1 of them at length 1, so a complete column's counts
    fall short of the record count by more than the noise when wide records are common enough
    (here ~150 of 20,000): the columns are still found complete, the one missing in 3 % is not."""
    path = tmp_path / "wide.csv"
    _wide_tail_frame(20_000, np.random.default_rng(3)).to_csv(path, index=False)
    aggregates = aggregate_dataset(load_csv(path), seed=5, reporting_length=2)
    sensitivity = aggregates.lengths[0].sensitivity
    assert sensitivity < 44  # the wide records (44 items) are truncated
    items = aggregates.items
    single = np.zeros(items.n_items)
    single[aggregates.combos[1][:, 0]] = aggregates.counts[1]
    total = np.bincount(items.column_of, weights=single)
    names = items.codebook.names
    shortfall = aggregates.record_count - total[names.index("sex")]
    assert shortfall > 5 * aggregates.lengths[0].noise_sd  # beyond the noise alone
    complete = {names[j] for j in np.flatnonzero(fit_rules(aggregates, 2).complete)}
    assert complete == {"sex", "region", "cohort"}


def test_default_makes_exactly_the_protected_number_of_records(medium):
    _, aggregates, default, _ = medium
    assert default.codes.shape == (aggregates.record_count, len(aggregates.items.codebook))
    assert default.codes.dtype == np.uint16
    assert default.stats["empty_records"] == int((~(default.codes > 0).any(axis=1)).sum())


def test_sds_spends_every_budget(medium):
    """Each single item is placed exactly as often as its protected 1-count."""
    _, aggregates, _, sds = medium
    ones = count_combinations(sds.codes, aggregates.items, 1)
    protected = aggregate_counts(aggregates)
    assert np.array_equal(ones.keys[1], protected.keys[1])
    assert np.array_equal(ones.counts[1], protected.counts[1])
    assert (sds.codes > 0).any(axis=1).all()  # every SDS record holds an item


@pytest.mark.parametrize("name", ["default", "sds"])
def test_same_seed_same_records(small, name):
    _, aggregates = small
    first = synthesize(aggregates, name, np.random.default_rng(42))
    again = synthesize(aggregates, name, np.random.default_rng(42))
    other = synthesize(aggregates, name, np.random.default_rng(43))
    assert np.array_equal(first.codes, again.codes)
    assert not np.array_equal(first.codes, other.codes)


@pytest.mark.parametrize("length", [2, 4])
def test_default_handles_other_reporting_lengths(tmp_path_factory, length):
    dataset = demo_dataset(tmp_path_factory, 2_000, 5, SYNTH_COLUMNS[:8], f"length{length}")
    aggregates = aggregate_dataset(dataset, seed=3, reporting_length=length)
    result = synthesize_default(aggregates, np.random.default_rng(0))
    assert len(result.codes) == aggregates.record_count
    caps = fit_rules(aggregates, length).caps
    for k in range(1, length + 1):
        assert (unlisted_counts(result.codes, aggregates, k) <= caps[k - 1]).all()
    figures = compare(aggregate_counts(aggregates), count_combinations(result.codes, aggregates.items, length))
    assert figures["lengths"][1]["mean_relative_error"] <= 0.02


def test_unknown_synthesizer_is_refused(small):
    with pytest.raises(ValueError):
        synthesize(small[1], "magic", np.random.default_rng(0))


def test_percentile_is_statrs_type_8():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 7, 20, 57):
        values = rng.integers(0, 500, size=(n, 9)).astype(float)
        for q in (0, 50, 95, 100):
            expected = np.floor(np.percentile(values, q, axis=0, method="median_unbiased") + 0.5)
            assert np.array_equal(_percentile_rows(values, q), expected)


def _hand_aggregates():
    """Three columns a (values x, y), b (value 1), c (value 1); R = 2.
    Protected: a:x 6, a:y 4, b:1 5, c:1 3; a:x;b:1 5, a:x;c:1 3, b:1;c:1 2 (a:y goes with nothing)."""
    items = ItemSpace(
        Codebook(
            (
                categorical_attribute("a", ("x", "y")),
                categorical_attribute("b", ("1",)),
                categorical_attribute("c", ("1",)),
            )
        )
    )
    ax, ay, b1, c1 = 0, 1, 2, 3
    return ProtectedAggregates(
        items=items,
        record_count=10,
        combos={1: np.array([[ax], [ay], [b1], [c1]], np.int32), 2: np.array([[ax, b1], [ax, c1], [b1, c1]], np.int32)},
        counts={1: np.array([6, 4, 5, 3]), 2: np.array([5, 3, 2])},
    )


@pytest.mark.parametrize("seed", range(5))
def test_sds_grows_records_within_the_protected_combinations(seed):
    aggregates = _hand_aggregates()
    result = synthesize_sds(aggregates, np.random.default_rng(seed))
    allowed = {(0,), (1,), (2,), (3,), (0, 2), (0, 3), (2, 3)}
    ids = aggregates.items.record_items(result.codes)
    placed = np.zeros(4, int)
    for row in ids:
        present = tuple(sorted(int(i) for i in row if i >= 0))
        for k in (1, 2):
            assert set(itertools.combinations(present, k)) <= allowed
        placed[list(present)] += 1
    assert placed.tolist() == [6, 4, 5, 3]
    # a:y has no partner: its four units become four records of their own
    assert sum(1 for row in ids if sorted(int(i) for i in row if i >= 0) == [1]) == 4


def test_default_on_hand_made_aggregates():
    aggregates = _hand_aggregates()
    result = synthesize_default(aggregates, np.random.default_rng(0))
    assert len(result.codes) == 10
    counts = count_combinations(result.codes, aggregates.items, 2)
    assert not _fabricated(result.codes, aggregates).any()
    assert counts.counts[1].tolist() == [6, 4, 5, 3]  # consistent counts are met exactly
    # (no noise parameters: nothing unlisted may be made)
    assert counts.counts[2].tolist() == [5, 3, 2]
