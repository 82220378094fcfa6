"""The default synthesizer's global polish (synth_engine/polish.py).

The polish keeps every combination's synthetic count up to date while it swaps and changes
cells; these tests recount the records from scratch to check that bookkeeping, and check that it
lowers the error in noise units, keeps unlisted combinations within their caps, keeps the
implications and the complete columns, and is deterministic whatever the number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from builders import SYNTH_COLUMNS, aggregate_dataset, demo_dataset, unlisted_counts
from synth_engine.constraints import enforce, fit_rules, implication_violations
from synth_engine.evaluate import (
    aggregate_counts,
    combination_incidence,
    count_combinations,
)
from synth_engine.polish import polish
from synth_engine.sds import synthesize_sds
from synth_engine.synthesize import combination_weights


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    """Aggregates of 4,000 demonstration records and a starting point that holds no combination
    they lack: SDS's sampler, as item ids (-1 = missing)."""
    dataset = demo_dataset(tmp_path_factory, 4_000, 9, SYNTH_COLUMNS[:11], "polish")
    aggregates = aggregate_dataset(dataset, seed=4, reporting_length=3)
    codes = synthesize_sds(aggregates, np.random.default_rng(5)).codes
    return aggregates, aggregates.items.record_items(codes)


def _squared_error(codes, aggregates, weights):
    """Σ (w·(synthetic − protected))², counted from scratch."""
    protected = aggregate_counts(aggregates)
    synthetic = count_combinations(codes, aggregates.items, aggregates.reporting_length)
    return sum(
        float(np.sum((weights[k] * (synthetic.lookup(k, protected.keys[k]) - protected.counts[k])) ** 2))
        for k in protected.keys
    )


def _run(aggregates, state, proposals=200_000, swap_share=0.93, seed=0, rules=None):
    counts = aggregate_counts(aggregates)
    rules = rules or fit_rules(aggregates, aggregates.reporting_length)
    weights = combination_weights(counts, aggregates.reporting_length, rules.noise_sd)
    state = state.copy()
    result = polish(
        state,
        aggregates.items.offsets,
        counts,
        weights,
        rules,
        proposals,
        swap_share,
        np.random.default_rng(seed),
        chunks=4,
    )
    return state, result, weights


@pytest.fixture(scope="module")
def default_run(start):
    """`_run` with its defaults (200,000 proposals) from the starting point: (polished, result, weights)."""
    aggregates, state = start
    return _run(aggregates, state)


def test_polish_lowers_the_error_it_reports_and_the_report_matches_a_recount(start, default_run):
    aggregates, state = start
    polished, result, weights = default_run
    before = _squared_error(aggregates.items.item_codes(state), aggregates, weights)
    after = _squared_error(aggregates.items.item_codes(polished), aggregates, weights)
    assert result.error_before == pytest.approx(before, rel=1e-9)
    assert result.error_after == pytest.approx(after, rel=1e-9)  # the incremental counts are right
    assert after < 0.9 * before
    assert result.accepted > 0


def test_polish_keeps_unlisted_combinations_within_their_caps(start, default_run):
    """SDS's records hold nothing unlisted; the polish may make unlisted combinations, up to
    threshold + 1.96 noise sd each (and it does make some: the bound is what holds them)."""
    aggregates, state = start
    polished, _, _ = default_run
    caps = fit_rules(aggregates, aggregates.reporting_length).caps
    before = _fabricated(state, aggregates)
    made = 0
    for k in range(1, aggregates.reporting_length + 1):
        unlisted = unlisted_counts(aggregates.items.item_codes(polished), aggregates, k)
        assert (unlisted <= caps[k - 1]).all()
        made += len(unlisted)
    assert not before.any() and made > 0


def _fabricated(state, aggregates):
    _, outside = combination_incidence(
        aggregates.items.item_codes(state), aggregates.items, aggregate_counts(aggregates), aggregates.reporting_length
    )
    return outside


def test_polish_keeps_implications_and_complete_columns(start):
    """Records made to obey the rules (`enforce`) still obey them after the polish; the column
    declared complete keeps no missing cell although the proposals include "missing"."""
    aggregates, state = start
    items = aggregates.items
    rules = fit_rules(aggregates, aggregates.reporting_length)
    # the implications to keep, named here: prostitution needs sexual exploitation, domestic
    # work needs forced labour
    rules.antecedent = np.array([items.item_of_text("isSexualExploit:1"), items.item_of_text("isForcedLabour:1")])
    rules.consequent = np.array(
        [items.item_of_text("typeOfSexProstitution:1"), items.item_of_text("typeOfLabourDomesticWork:1")]
    )
    column = items.codebook.names.index("gender")
    rules.complete[column] = True
    ready = state.copy()
    single = np.zeros(items.n_items)
    single[aggregates.combos[1][:, 0]] = aggregates.counts[1]
    enforce(ready, rules, items, single, np.random.default_rng(1))
    assert implication_violations(items.item_codes(ready), rules, items) == 0
    polished, result, _ = _run(aggregates, ready, swap_share=0.5, rules=rules)
    assert result.accepted > 0
    assert implication_violations(items.item_codes(polished), rules, items) == 0
    assert (polished[:, column] >= 0).all()


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
