"""The evaluate stage: vectorized counting of combinations, SDS's comparison figures and the
agreement in noise units (checked against plain-loop recounts), and the figures in the store."""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest

from builders import brute_force_counts, categorical_attribute
from data.aggregates import LengthParameters, ProtectedAggregates, pack, unpack
from data.codebook import Codebook
from data.dataset import Dataset, ItemSpace
from data.schema import DEVIATION_METRICS
from data.store import Store
from data.writer import Release, write_store
from synth_engine.evaluate import (
    PUBLIC_COMPARISON,
    CombinationCounts,
    aggregate_counts,
    bucket_of,
    combination_incidence,
    compare,
    count_combinations,
    evaluate,
)
from synth_engine.noise_units import Noise, bucket_low, implications


def _codebook(sizes):
    return Codebook(
        tuple(categorical_attribute(f"c{j}", tuple(f"v{i}" for i in range(n))) for j, n in enumerate(sizes))
    )


def _random_codes(rng, n, sizes, fill=0.6):
    codes = np.zeros((n, len(sizes)), dtype=np.uint16)
    for j, size in enumerate(sizes):
        present = rng.random(n) < fill
        codes[present, j] = rng.integers(1, size + 1, size=int(present.sum()))
    return codes


def _as_dict(counts: CombinationCounts, k):
    combos = unpack(counts.keys[k], k, counts.base)
    return {tuple(int(i) for i in c): int(n) for c, n in zip(combos, counts.counts[k])}


@pytest.mark.parametrize("weights", [False, True])
def test_count_combinations_matches_brute_force(weights):
    rng = np.random.default_rng(3)
    sizes = [3, 1, 4, 2, 1, 5]
    items = ItemSpace(_codebook(sizes))
    codes = _random_codes(rng, 300, sizes)
    w = rng.integers(0, 4, size=len(codes)) if weights else None
    counts = count_combinations(codes, items, 3, weights=w)
    expected = brute_force_counts(np.repeat(codes, w, axis=0) if weights else codes, items, 3)
    for k in (1, 2, 3):
        assert _as_dict(counts, k) == {combo: n for combo, n in expected.items() if len(combo) == k}
        assert np.all(np.diff(counts.keys[k]) > 0)  # sorted, distinct
    assert counts.n_records == (int(w.sum()) if weights else 300)


def test_keys_round_trip_and_lookup():
    combos = np.array([[0, 4, 9], [1, 2, 3], [7, 8, 11]])
    keys = pack(combos, 12)
    assert np.array_equal(unpack(keys, 3, 12), combos)
    counts = CombinationCounts(12, {3: np.sort(keys)}, {3: np.array([5, 6, 7])}, 10)
    assert counts.lookup(3, pack(np.array([[1, 2, 3], [0, 1, 2]]), 12)).tolist() == [6, 0]


def test_incidence_lists_the_reference_combinations_of_each_row():
    rng = np.random.default_rng(4)
    sizes = [2, 3, 1, 2]
    items = ItemSpace(_codebook(sizes))
    codes = _random_codes(rng, 60, sizes, fill=0.8)
    full = count_combinations(codes, items, 2)
    # a reference that lacks some pairs: rows holding one of them count it as "outside"
    keep = np.arange(len(full.keys[2])) % 3 != 0
    reference = CombinationCounts(
        full.base, {1: full.keys[1], 2: full.keys[2][keep]}, {1: full.counts[1], 2: full.counts[2][keep]}, 60
    )
    matrix, outside = combination_incidence(codes, items, reference, 2)
    assert matrix.shape == (len(reference.keys[1]) + int(keep.sum()), 60)
    expected = np.concatenate([reference.counts[1], reference.counts[2]])
    assert np.array_equal(np.asarray(matrix.sum(axis=1)).ravel(), expected)
    dropped = set(map(int, full.keys[2][~keep]))
    ids = items.record_items(codes)
    for r, row in enumerate(ids):
        present = sorted(int(i) for i in row if i >= 0)
        missing = sum(
            1 for a, b in itertools.combinations(present, 2) if int(pack(np.array([[a, b]]), full.base)[0]) in dropped
        )
        assert outside[r] == missing


def _counts(base, table):
    """CombinationCounts from {combo tuple: count}."""
    keys, counts = {}, {}
    for k in sorted({len(c) for c in table}):
        rows = sorted((int(pack(np.array([c]), base)[0]), n) for c, n in table.items() if len(c) == k)
        keys[k] = np.array([r[0] for r in rows], dtype=np.int64)
        counts[k] = np.array([r[1] for r in rows], dtype=np.int64)
    return CombinationCounts(base, keys, counts, 0)


def test_compare_follows_sds_definitions():
    base = 20
    original = _counts(base, {(0,): 100, (1,): 40, (2,): 8, (0, 1): 30, (0, 2): 12, (1, 2): 5})
    target = _counts(base, {(0,): 90, (1,): 40, (3,): 7, (0, 1): 33, (1, 2): 5, (1, 3): 2})
    original.n_records, target.n_records = 200, 210
    figures = compare(original, target)
    one, two = figures["lengths"][1], figures["lengths"][2]
    # length 1: S = {0, 1, 2}, T = {0, 1, 3}
    assert one["combinations"] == 3 and one["target_combinations"] == 3
    assert one["suppressed_pct"] == pytest.approx(100 / 3)  # {2}
    assert one["fabricated_pct"] == pytest.approx(100 / 3)  # {3}, over |S|
    assert one["fabricated_of_target_pct"] == pytest.approx(100 / 3)
    assert one["mean_absolute_error"] == pytest.approx((10 + 0) / 2)  # over S ∩ T
    # relative error over protected >= 10, absent counts 0: (10/100 + 0/40) / 2
    assert one["relative_error_combinations"] == 2
    assert one["mean_relative_error"] == pytest.approx(0.05)
    assert one["mean_preservation"] == pytest.approx((0.9 + 1.0) / 2)
    # length 2: S = {01, 02, 12}, T = {01, 12, 13}; >= 10: 01 (3/30), 02 (absent: 12/12)
    assert two["suppressed_pct"] == pytest.approx(100 / 3)
    assert two["fabricated_pct"] == pytest.approx(100 / 3)
    assert two["mean_absolute_error"] == pytest.approx((3 + 0) / 2)
    assert two["mean_relative_error"] == pytest.approx((0.1 + 1.0) / 2)
    assert two["mean_preservation"] == pytest.approx((1.0 + 0.0) / 2)
    assert figures["overall"]["suppressed_pct"] == pytest.approx(100 * 2 / 6)
    assert figures["overall"]["retained_pct"] == pytest.approx(100 - 100 * 2 / 6)
    assert figures["records"]["record_expansion_pct"] == pytest.approx(5.0)
    # buckets [10, 20), [20, 40), [40, 80), [80, 160), per length and overall
    buckets = {(b["length"], b["bucket_low"]): b for b in figures["buckets"]}
    assert buckets[(1, 80)]["combinations"] == 1 and buckets[(1, 80)]["mean_proportional_error"] == pytest.approx(0.1)
    assert buckets[(1, 40)]["mean_preservation"] == pytest.approx(1.0)
    assert buckets[(2, 10)]["mean_preservation"] == pytest.approx(0.0)
    assert buckets[(None, 20)]["combinations"] == 1  # the pair 01 (30)
    assert sum(b["combinations"] for b in figures["buckets"] if b["length"] is None) == 4


def test_bucket_edges():
    assert bucket_of(np.array([10, 19, 20, 39, 40, 1279, 1280])).tolist() == [0, 0, 1, 1, 2, 6, 7]


def _planted(rng, n, sizes):
    """Random codes in which value 1 of the last column always comes with value 1 of the first."""
    codes = _random_codes(rng, n, sizes, fill=0.7)
    codes[codes[:, -1] == 1, 0] = 1
    return codes


def _release(codes, items, noise_sd, thresholds, drop_every=5):
    """Protected aggregates of `codes`: true counts + 1 (a stand-in for the noise), every
    `drop_every`-th combination of length >= 2 left out, and the given noise sd / thresholds."""
    true = count_combinations(codes, items, len(noise_sd))
    combos, counts = {}, {}
    for k in true.lengths:
        keep = np.ones(len(true.keys[k]), bool) if k == 1 else np.arange(len(true.keys[k])) % drop_every != 0
        combos[k] = unpack(true.keys[k][keep], k, true.base)
        counts[k] = true.counts[k][keep] + 1
    lengths = [LengthParameters(k, 1.0, 1, sd, t) for k, (sd, t) in enumerate(zip(noise_sd, thresholds), start=1)]
    return ProtectedAggregates(items=items, record_count=len(codes) + 1, combos=combos, counts=counts, lengths=lengths)


def _oracle(protected, compared, sd, thresholds):
    """The noise-unit figures by plain loops over {combination: count} dicts."""
    out = {}
    for k, s in sd.items():
        listed = [(c, p) for c, p in protected.items() if len(c) == k]
        measured = [((compared.get(c, 0) - p) / s, p, compared.get(c, 0)) for c, p in listed if p >= 10]
        groups = {None: measured}
        for z, p, x in measured:
            groups.setdefault(next(low for low in (10_000, 1_000, 100, 10) if p >= low), []).append((z, p, x))
        for bucket, rows in groups.items():
            out[(k, bucket)] = {
                "measured_combinations": len(rows),
                "mean_abs_z": sum(abs(z) for z, _, _ in rows) / len(rows),
                "within_noise_95_pct": 100 * sum(abs(z) <= 1.96 for z, _, _ in rows) / len(rows),
                "max_abs_z": max(abs(z) for z, _, _ in rows),
                "mean_relative_error": sum(abs(x - p) / p for _, p, x in rows) / len(rows),
            }
        if k >= 2:
            unlisted = [x for c, x in compared.items() if len(c) == k and c not in protected]
            out[(k, "unlisted")] = (len(unlisted), sum(x > thresholds[k] + 1.96 * s for x in unlisted))
    return out


SIZES = [2, 3, 2, 4, 2]
NOISE_SD = (3.0, 4.0, 2.5)
THRESHOLDS = (5.0, 1.0, 0.0)


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(8)
    items = ItemSpace(_codebook(SIZES))
    sensitive = _planted(rng, 3000, SIZES)
    aggregates = _release(sensitive, items, NOISE_SD, THRESHOLDS)
    synthetic = _planted(rng, 2900, SIZES)
    synthetic[:40, -1], synthetic[:40, 0] = 1, 2  # 40 records break the planted implication
    synthetic[40:45] = [2, 3, 2, 4, 2]  # and 5 hold combinations the release lacks
    return items, sensitive, aggregates, synthetic


def test_noise_unit_figures_match_a_brute_force_recount(planted):
    items, _, aggregates, synthetic = planted
    protected = {
        tuple(int(i) for i in c): int(n)
        for k in aggregates.combos
        for c, n in zip(aggregates.combos[k], aggregates.counts[k])
    }
    compared = brute_force_counts(synthetic, items, 3)
    sd = dict(enumerate(NOISE_SD, start=1))
    expected = _oracle(protected, compared, sd, dict(enumerate(THRESHOLDS, start=1)))
    public = evaluate(synthetic, aggregates).public
    assert {low for k in (1, 2, 3) for low in public["lengths"][k]["buckets"]} == {10, 100, 1000}
    for k in (1, 2, 3):
        for bucket, figures in [(None, public["lengths"][k]), *public["lengths"][k]["buckets"].items()]:
            for metric in DEVIATION_METRICS:
                assert figures[metric] == pytest.approx(expected[(k, bucket)][metric]), (k, bucket, metric)
    for k in (2, 3):
        unlisted = public["unlisted"][k]
        assert (unlisted["unlisted_combinations"], unlisted["unlisted_beyond_noise"]) == expected[(k, "unlisted")]
        assert unlisted["unlisted_combinations"] > 0
    holding = sum(
        any(
            combo not in protected
            for size in (1, 2, 3)
            for combo in itertools.combinations(sorted(int(i) for i in row if i >= 0), size)
        )
        for row in items.record_items(synthetic)
    )
    assert public["records_with_unlisted_pct"] == pytest.approx(100 * holding / len(synthetic))
    # the largest deviations: the LARGEST |z| of every listed combination, with both counts
    everything = sorted(
        (
            (abs((compared.get(c, 0) - p) / sd[len(c)]), items.key(c), p, compared.get(c, 0))
            for c, p in protected.items()
        ),
        reverse=True,
    )
    largest = public["largest"]
    assert [row["z"] for row in largest] == sorted((row["z"] for row in largest), key=abs, reverse=True)
    assert [abs(row["z"]) for row in largest] == pytest.approx([e[0] for e in everything[: len(largest)]])
    assert len(largest) == 20
    top = everything[0]
    assert (largest[0]["key"], largest[0]["reference_count"], largest[0]["compared_count"]) == top[1:]


def test_implications_come_from_the_protected_counts_and_breaches_are_counted(planted):
    items, sensitive, aggregates, synthetic = planted
    rules = implications(aggregate_counts(aggregates), Noise.of(aggregates))
    b, a = items.item_of_text("c4:v0"), items.item_of_text("c0:v0")
    assert [b, a] in rules.tolist()
    # every rule found holds by the protected counts, and no value implies two of one column
    protected = {
        tuple(int(i) for i in c): int(n)
        for k in aggregates.combos
        for c, n in zip(aggregates.combos[k], aggregates.counts[k])
    }
    slack = 2 * np.hypot(NOISE_SD[0], NOISE_SD[1])
    for rule_b, rule_a in rules.tolist():
        assert protected[tuple(sorted((rule_b, rule_a)))] >= protected[(rule_b,)] - slack
    columns = [(rule_b, items.column_of[rule_a]) for rule_b, rule_a in rules.tolist()]
    assert len(columns) == len(set(columns))
    evaluation = evaluate(synthetic, aggregates, sensitive)
    figures = evaluation.public["implications"]
    planted_rule = next(r for r in figures["rules"] if (r["if"], r["then"]) == ("c4:v0", "c0:v0"))
    assert planted_rule["records_with_if"] == int(np.count_nonzero(synthetic[:, -1] == 1))
    assert planted_rule["lacking_then"] == 40
    assert figures["implications"] == len(rules) and figures["implications_violated"] >= 1
    in_true = evaluation.private["implications_in_true_records"]["rules"]
    assert next(r for r in in_true if r["if"] == "c4:v0" and r["then"] == "c0:v0")["lacking_then"] == 0


def test_bucket_lows_are_decades():
    assert bucket_low(np.array([10, 99, 100, 999, 1000, 9999, 10_000, 123_456])).tolist() == [
        10,
        10,
        100,
        100,
        1000,
        1000,
        10_000,
        10_000,
    ]


def test_evaluate_keeps_sensitive_figures_out_of_the_public_ones(planted):
    items, sensitive, aggregates, synthetic = planted
    public_only = evaluate(synthetic, aggregates)
    assert public_only.private is None
    assert {q.comparison for q in public_only.quality} == {PUBLIC_COMPARISON}
    assert all(np.isfinite(q.value) for q in public_only.quality)
    with_private = evaluate(synthetic, aggregates, sensitive)
    assert with_private.quality == public_only.quality
    assert with_private.deviations == public_only.deviations
    private = with_private.private
    assert private["true_records"] == 3000
    # the protected counts are the true ones + 1, except the combinations left out
    assert private["protected_vs_true"]["lengths"][1]["mean_abs_z"] == pytest.approx(1 / NOISE_SD[0])
    assert private["protected_vs_true"]["unlisted"][2]["suppressed_pct"] == pytest.approx(20.0, abs=0.5)
    # against the true counts over the combinations the release lists (the others are suppressed)
    true = brute_force_counts(sensitive, items, 3)
    compared = brute_force_counts(synthetic, items, 3)
    listed = {tuple(int(i) for i in c) for c in aggregates.combos[2]}
    measured = [
        abs(compared.get(c, 0) - n) / NOISE_SD[1] for c, n in true.items() if len(c) == 2 and n >= 10 and c in listed
    ]
    assert private["synthetic_vs_true"]["lengths"][2]["measured_combinations"] == len(measured)
    assert private["synthetic_vs_true"]["lengths"][2]["mean_abs_z"] == pytest.approx(np.mean(measured))
    assert len(measured) < sum(1 for c, n in true.items() if len(c) == 2 and n >= 10)
    # the public figures compare with the protected counts: their record count is 3001
    assert public_only.public["records"]["protected"] == 3001


def test_evaluation_is_deterministic_and_independent_of_record_order(planted):
    _, _, aggregates, synthetic = planted
    first = evaluate(synthetic, aggregates)
    again = evaluate(synthetic.copy(), aggregates)
    shuffled = evaluate(synthetic[np.random.default_rng(1).permutation(len(synthetic))], aggregates)
    assert first.quality == again.quality == shuffled.quality
    assert first.deviations == again.deviations == shuffled.deviations


def _stored(planted, path):
    """The planted synthetic records written to a store at `path` with their public figures."""
    items, _, aggregates, synthetic = planted
    evaluation = evaluate(synthetic, aggregates)
    write_store(
        path,
        Dataset(items.codebook, synthetic),
        Release("t", "built", "t.csv", True, "0"),
        aggregates,
        evaluation.quality,
        evaluation.deviations,
    )
    return evaluation, path


def test_the_store_holds_the_public_figures(planted, tmp_path):
    evaluation, path = _stored(planted, tmp_path / "figures.duckdb")
    store = Store(path)
    try:
        by_length = store.agreement_by_length()
        public = evaluation.public
        assert by_length["length"].tolist()[:3] == [1, 2, 3] and pd.isna(by_length["length"].iloc[3])
        assert by_length["mean_abs_z"].tolist() == pytest.approx(
            [public["lengths"][k]["mean_abs_z"] for k in (1, 2, 3)] + [public["overall"]["mean_abs_z"]]
        )
        by_bucket = store.agreement_by_bucket()
        assert len(by_bucket) == sum(len(public["lengths"][k]["buckets"]) for k in (1, 2, 3))
        row = by_bucket[(by_bucket["length"] == 2) & (by_bucket["bucket_low"] == 100)].iloc[0]
        assert row["within_noise_95_pct"] == pytest.approx(public["lengths"][2]["buckets"][100]["within_noise_95_pct"])
        unlisted = store.unlisted_by_length()
        assert unlisted["unlisted_beyond_noise"].tolist() == [
            public["unlisted"][k]["unlisted_beyond_noise"] for k in (2, 3)
        ]
        totals = store.quality_totals()
        assert totals["implications_violated"] == public["implications"]["implications_violated"]
        assert totals["records_with_unlisted_pct"] == pytest.approx(public["records_with_unlisted_pct"])
        largest = store.largest_deviations()
        assert largest["rank"].tolist() == list(range(1, 21))
        assert largest["key"].tolist() == [row["key"] for row in public["largest"]]
        assert largest["compared_count"].tolist() == [row["compared_count"] for row in public["largest"]]
    finally:
        store.close()


def test_a_store_written_before_the_deviations_table_reads_without_them(planted, tmp_path):
    _, path = _stored(planted, tmp_path / "older.duckdb")
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE quality_deviations")
    con.close()
    store = Store(path)
    try:
        assert store.largest_deviations().empty
        assert "quality_deviations" not in store.table_sizes()
        assert len(store.agreement_by_length()) == 4
    finally:
        store.close()
