"""The default synthesizer's global polish (synth_engine/polish.py).

The polish keeps every protected combination's synthetic count up to date while it swaps and
changes cells; these tests recount the records from scratch to check that bookkeeping, and check
that it lowers the weighted error, never fabricates, is deterministic whatever the number of
threads, and refuses records that already hold a combination the aggregates lack.
"""
from __future__ import annotations

import numba
import numpy as np
import pytest

from builders import SYNTH_COLUMNS, aggregate_dataset, demo_dataset
from synth_engine.evaluate import aggregate_counts, combination_incidence, count_combinations
from synth_engine.polish import polish
from synth_engine.synthesize import DefaultSettings, combination_weights, synthesize_sds


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    """Aggregates of 4,000 demonstration records and a starting point that holds no combination
    they lack: SDS's sampler, as item ids (-1 = missing)."""
    dataset = demo_dataset(tmp_path_factory, 4_000, 9, SYNTH_COLUMNS[:11], "polish")
    aggregates = aggregate_dataset(dataset, seed=4, reporting_length=3)
    codes = synthesize_sds(aggregates, np.random.default_rng(5)).codes
    return aggregates, aggregates.items.record_items(codes)


def _weighted_error(codes, aggregates, weights):
    """Σ w·|synthetic − protected|, counted from scratch."""
    protected = aggregate_counts(aggregates)
    synthetic = count_combinations(codes, aggregates.items, aggregates.reporting_length)
    return sum(float(np.sum(weights[k] * np.abs(synthetic.lookup(k, protected.keys[k]) - protected.counts[k])))
               for k in protected.keys)


def _run(aggregates, state, proposals=200_000, swap_share=0.93, seed=0):
    counts = aggregate_counts(aggregates)
    weights = combination_weights(counts, aggregates.reporting_length, DefaultSettings())
    state = state.copy()
    result = polish(state, aggregates.items.offsets, counts, weights, proposals, swap_share,
                    np.random.default_rng(seed), chunks=4)
    return state, result, weights


@pytest.fixture(scope="module")
def default_run(start):
    """`_run` with its defaults (200,000 proposals) from the starting point: (polished, result, weights)."""
    aggregates, state = start
    return _run(aggregates, state)


def test_polish_lowers_the_error_it_reports_and_the_report_matches_a_recount(start, default_run):
    aggregates, state = start
    polished, result, weights = default_run
    before = _weighted_error(aggregates.items.item_codes(state), aggregates, weights)
    after = _weighted_error(aggregates.items.item_codes(polished), aggregates, weights)
    assert result.error_before == pytest.approx(before, rel=1e-9)
    assert result.error_after == pytest.approx(after, rel=1e-9)     # the incremental counts are right
    assert after < 0.9 * before
    assert result.accepted > 0


def test_polish_never_fabricates(start, default_run):
    aggregates, _ = start
    polished, _, _ = default_run
    _, outside = combination_incidence(aggregates.items.item_codes(polished), aggregates.items,
                                       aggregate_counts(aggregates), aggregates.reporting_length)
    assert not outside.any()


def test_swaps_alone_keep_every_single_count(start):
    aggregates, state = start
    polished, result, _ = _run(aggregates, state, swap_share=1.0)
    ones_before = count_combinations(aggregates.items.item_codes(state), aggregates.items, 1)
    ones_after = count_combinations(aggregates.items.item_codes(polished), aggregates.items, 1)
    assert np.array_equal(ones_before.keys[1], ones_after.keys[1])
    assert np.array_equal(ones_before.counts[1], ones_after.counts[1])
    assert not np.array_equal(polished, state)
    assert result.error_after < result.error_before


def test_polish_is_deterministic_whatever_the_number_of_threads(start):
    aggregates, state = start
    first, _, _ = _run(aggregates, state, seed=3)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single, _, _ = _run(aggregates, state, seed=3)
    finally:
        numba.set_num_threads(threads)
    other, _, _ = _run(aggregates, state, seed=4)
    assert np.array_equal(first, single)
    assert not np.array_equal(first, other)


def test_polish_refuses_records_holding_a_combination_the_aggregates_lack(start):
    aggregates, state = start
    counts = aggregate_counts(aggregates)
    pairs = {tuple(int(v) for v in row) for row in aggregates.combos[2]}
    items = aggregates.items
    # a record holding two values whose pair is not protected
    first, second = next((a, b) for a in range(items.n_items) for b in range(a + 1, items.n_items)
                         if items.column_of[a] != items.column_of[b] and (a, b) not in pairs)
    bad = state.copy()
    bad[0, :] = -1
    bad[0, items.column_of[first]] = first
    bad[0, items.column_of[second]] = second
    weights = combination_weights(counts, aggregates.reporting_length, DefaultSettings())
    with pytest.raises(ValueError, match="lack"):
        polish(bad, items.offsets, counts, weights, 1000, 0.9, np.random.default_rng(0))
