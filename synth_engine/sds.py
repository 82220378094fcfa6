"""Synthetic Data Showcase's aggregate-seeded sampler (sds-method.md), kept as the baseline the
default synthesizer is measured against: records are grown one item at a time, each draw weighted
by a protected count, until the single items' budgets are spent."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np

from data.aggregates import ProtectedAggregates, pack
from synth_engine.evaluate import aggregate_counts
from synth_engine.synthesis_result import SynthesisResult, no_progress

WEIGHT_SELECTION_PERCENTILE = 95


class _Children:
    """For every protected combination C of length < R: the items x with C ∪ {x} protected, and
    the protected count of C ∪ {x}, as a dense vector over all items (0 = not protected)."""

    def __init__(self, aggregates: ProtectedAggregates, base: int):
        self.n_items = aggregates.items.n_items
        self.base = base
        grouped: dict[int, tuple[list, list, list]] = {}
        by_parent: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        for k, combos in aggregates.combos.items():
            if k < 2 or len(combos) == 0:
                continue
            counts = np.asarray(aggregates.counts[k], dtype=np.int64)
            for drop in range(k):
                parent = pack(np.delete(combos, drop, axis=1), base)
                grouped.setdefault(k - 1, ([], [], []))
                grouped[k - 1][0].append(parent)
                grouped[k - 1][1].append(combos[:, drop].astype(np.int64))
                grouped[k - 1][2].append(counts)
        for length, (parents, xs, counts) in grouped.items():
            parents = np.concatenate(parents)
            xs = np.concatenate(xs)
            counts = np.concatenate(counts)
            order = np.argsort(parents, kind="stable")
            parents, xs, counts = parents[order], xs[order], counts[order]
            bounds = np.flatnonzero(np.diff(parents)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [len(parents)]])
            for s, e in zip(starts.tolist(), ends.tolist()):
                by_parent[(length, int(parents[s]))] = (xs[s:e], counts[s:e])
        self._by_parent = by_parent
        self._dense: dict[int, np.ndarray] = {}
        self._empty = np.zeros(self.n_items, dtype=np.float64)

    def dense(self, combo: tuple[int, ...]) -> np.ndarray:
        key = (len(combo), _pack_tuple(combo, self.base))
        cached = self._dense.get(key)
        if cached is None:
            hit = self._by_parent.get(key) if combo else None
            cached = self._empty.copy()
            if hit is not None:
                cached[hit[0]] = hit[1]
            if len(self._dense) < 100_000:
                self._dense[key] = cached
        return cached


def _pack_tuple(combo, base: int) -> int:
    key = 0
    for item in combo:
        key = key * base + item
    return key


def synthesize_sds(
    aggregates: ProtectedAggregates,
    rng: np.random.Generator,
    percentile: float = WEIGHT_SELECTION_PERCENTILE,
    progress=None,
) -> SynthesisResult:
    """Synthetic Data Showcase's aggregate-seeded synthesis, as sds-method.md describes it.

    Each single item has a budget, its protected 1-count. A record starts empty; at each step the
    candidates are items with budget left, of a column the record does not have yet, such that
    the record plus the candidate is a protected combination (while it has at most R items), or,
    beyond R items, every sub-combination of length <= R holding the candidate is protected. The
    weight is the protected count of record + candidate, or beyond R the `percentile`-th
    percentile (statrs' estimator, numpy's 'median_unbiased') of the counts of those
    sub-combinations. A candidate is drawn by weight, one unit of its budget is spent, and the
    record grows until no candidate is left. Records are made until every budget is spent.
    By construction no combination of length <= R is fabricated.
    """
    progress = progress or no_progress
    items = aggregates.items
    n_items = items.n_items
    n_columns = len(items.codebook)
    R = aggregates.reporting_length
    column_of = items.column_of
    base = aggregate_counts(aggregates).base
    children = _Children(aggregates, base)

    single = np.zeros(n_items, dtype=np.float64)
    if 1 in aggregates.combos and len(aggregates.combos[1]):
        single[aggregates.combos[1][:, 0]] = aggregates.counts[1]
    budget = single.astype(np.int64)
    total_budget = int(budget.sum())

    records: list[list[int]] = []
    spent = 0
    reported = 0
    max_subs = sum(_n_choose(n_columns, t) for t in range(0, max(R, 1)))
    # sub_counts[s, x]: protected count of the s-th sub-combination T ∪ {x}, T ⊆ record, |T| < R
    sub_counts = np.zeros((max(max_subs, 1), n_items), dtype=np.float64)
    available = budget > 0
    while available.any():
        record: list[int] = []
        column_free = np.ones(n_columns, dtype=bool)
        sub_counts[0] = single  # T = (): the single items
        alive = single > 0  # every sub-combination with the record so far exists
        n_subs, full_row = 1, 0  # full_row: the row of T = the whole record
        while True:
            open_items = available & column_free[column_of]
            if len(record) < R:
                candidates = np.flatnonzero(open_items & (sub_counts[full_row] > 0))
                weights = sub_counts[full_row, candidates]
            else:
                candidates = np.flatnonzero(open_items & alive)
                weights = _percentile_rows(sub_counts[:n_subs, candidates], percentile)
            if len(candidates) == 0:
                break
            cumulative = np.cumsum(weights)
            if cumulative[-1] <= 0:
                break
            pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
            x = int(candidates[min(pick, len(candidates) - 1)])
            if len(record) + 1 < n_columns:
                n_subs, full_row = _add_subsets(children, record, x, R, sub_counts, alive, n_subs, full_row)
            record.append(x)
            column_free[column_of[x]] = False
            budget[x] -= 1
            if budget[x] <= 0:
                available[x] = False
            spent += 1
        records.append(record)
        done = int(100 * spent / max(total_budget, 1))
        if done > reported:
            progress(done - reported)
            reported = done
    if reported < 100:
        progress(100 - reported)
    codes = _records_to_codes(records, items, n_columns)
    return SynthesisResult(
        codes, "sds", {"weight_selection_percentile": percentile}, {"records": len(records), "items_placed": spent}
    )


def _add_subsets(
    children: _Children,
    record: list[int],
    x: int,
    R: int,
    sub_counts: np.ndarray,
    alive: np.ndarray,
    n_subs: int,
    full_row: int,
) -> tuple[int, int]:
    """The later candidates' new sub-combinations T ∪ {x} ∪ {y}, T ⊆ record, |T| <= R - 2, as rows
    of `sub_counts` from n_subs on (`alive` narrowed in place); returns the new (n_subs, full_row)."""
    for size in range(0, min(R - 2, len(record)) + 1):
        for subset in itertools.combinations(record, size):
            vector = children.dense(tuple(sorted(subset + (x,))))
            sub_counts[n_subs] = vector
            alive &= vector > 0
            if size == len(record):
                full_row = n_subs
            n_subs += 1
    return n_subs, full_row


def _n_choose(n: int, k: int) -> int:
    return comb(n, k) if 0 <= k <= n else 0


def _percentile_rows(values: np.ndarray, percentile: float) -> np.ndarray:
    """Per column of `values` (rows = observations), the percentile as statrs computes it
    (Hyndman & Fan's type 8, numpy's 'median_unbiased'), rounded to the nearest integer."""
    n = values.shape[0]
    tau = percentile / 100.0
    h = (n + 1.0 / 3.0) * tau + 1.0 / 3.0
    hf = int(np.floor(h))
    if hf <= 0 or tau == 0:
        result = values.min(axis=0)
    elif hf >= n or tau == 1:
        result = values.max(axis=0)
    else:
        part = np.partition(values, (hf - 1, hf), axis=0)
        a, b = part[hf - 1], part[hf]
        result = a + (h - hf) * (b - a)
    return np.floor(result + 0.5)


def _records_to_codes(records: list[list[int]], items, n_columns: int) -> np.ndarray:
    codes = np.zeros((len(records), n_columns), dtype=np.uint16)
    if records:
        lengths = np.fromiter((len(r) for r in records), dtype=np.int64, count=len(records))
        flat = np.fromiter(itertools.chain.from_iterable(records), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(records)), lengths)
        codes[rows, items.column_of[flat]] = items.code_of[flat]
    return codes
