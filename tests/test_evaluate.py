"""The evaluate stage: vectorized counting of combinations and SDS's comparison figures."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from builders import brute_force_counts, categorical_attribute
from data.aggregates import ProtectedAggregates, pack, unpack
from data.codebook import Codebook
from data.dataset import ItemSpace
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


def _codebook(sizes):
    return Codebook(tuple(categorical_attribute(f"c{j}", tuple(f"v{i}" for i in range(n)))
                          for j, n in enumerate(sizes)))


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
        assert np.all(np.diff(counts.keys[k]) > 0)          # sorted, distinct
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
    reference = CombinationCounts(full.base, {1: full.keys[1], 2: full.keys[2][keep]},
                                  {1: full.counts[1], 2: full.counts[2][keep]}, 60)
    matrix, outside = combination_incidence(codes, items, reference, 2)
    assert matrix.shape == (len(reference.keys[1]) + int(keep.sum()), 60)
    expected = np.concatenate([reference.counts[1], reference.counts[2]])
    assert np.array_equal(np.asarray(matrix.sum(axis=1)).ravel(), expected)
    dropped = set(map(int, full.keys[2][~keep]))
    ids = items.record_items(codes)
    for r, row in enumerate(ids):
        present = sorted(int(i) for i in row if i >= 0)
        missing = sum(1 for a, b in itertools.combinations(present, 2)
                      if int(pack(np.array([[a, b]]), full.base)[0]) in dropped)
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
    assert one["suppressed_pct"] == pytest.approx(100 / 3)          # {2}
    assert one["fabricated_pct"] == pytest.approx(100 / 3)          # {3}, over |S|
    assert one["fabricated_of_target_pct"] == pytest.approx(100 / 3)
    assert one["mean_absolute_error"] == pytest.approx((10 + 0) / 2)   # over S ∩ T
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
    assert buckets[(None, 20)]["combinations"] == 1                 # the pair 01 (30)
    assert sum(b["combinations"] for b in figures["buckets"] if b["length"] is None) == 4


def test_bucket_edges():
    assert bucket_of(np.array([10, 19, 20, 39, 40, 1279, 1280])).tolist() == [0, 0, 1, 1, 2, 6, 7]


def test_evaluate_keeps_sensitive_figures_out_of_the_public_ones():
    rng = np.random.default_rng(5)
    sizes = [3, 2, 2]
    items = ItemSpace(_codebook(sizes))
    sensitive = _random_codes(rng, 500, sizes)
    true = count_combinations(sensitive, items, 2)
    aggregates = ProtectedAggregates(
        items=items, record_count=505,
        combos={k: unpack(true.keys[k], k, true.base) for k in (1, 2)},
        counts={k: true.counts[k] + 1 for k in (1, 2)})
    synthetic = _random_codes(rng, 505, sizes)
    public_only = evaluate(synthetic, aggregates)
    assert public_only.private is None
    assert {q.comparison for q in public_only.quality} == {PUBLIC_COMPARISON}
    assert all(np.isfinite(q.value) for q in public_only.quality)
    with_private = evaluate(synthetic, aggregates, sensitive)
    assert with_private.quality == public_only.quality
    assert with_private.private["true_records"] == 500
    assert with_private.private["protected_vs_true"]["lengths"][1]["mean_absolute_error"] == pytest.approx(1.0)
    # the public figures compare with the protected counts: their record count is 505
    assert public_only.public["records"]["original"] == 505
    assert aggregate_counts(aggregates).n_records == 505
