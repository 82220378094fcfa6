"""The synthesize stage: synthetic records made from the protected aggregates alone.

Both synthesizers read only a `ProtectedAggregates` (the differentially private counts of
combinations of length 1..R and the protected record count); they never see a sensitive record,
so everything they output is post-processing of differentially private figures.

* `sds` — Synthetic Data Showcase's aggregate-seeded sampler (sds-method.md), kept as the
  baseline to measure against: records are grown one item at a time, each draw weighted by a
  protected count, until the single items' budgets are spent.
* `default` — the project's own (see `synthesize_default` and the comment above
  `DefaultSettings`): all records are filled one column at a time, each column's values chosen
  for all records at once so that every protected combination ending in that column is met as
  closely as possible (weighted L1 of relative errors), never creating a combination of length
  <= R that the aggregates lack; then every cell of every record is revisited by a global polish
  against all protected counts at once (polish.py). The number of records is the protected
  record count.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from data.aggregates import ProtectedAggregates
from data.aggregates import pack, unpack
from synth_engine.evaluate import aggregate_counts
from synth_engine.polish import polish

SYNTHESIZERS = ("default", "sds")
FILL_PROGRESS = 60            # of the default synthesizer's 100 progress units; the polish has the rest
WEIGHT_SELECTION_PERCENTILE = 95


@dataclass
class SynthesisResult:
    codes: np.ndarray                       # (records, attributes) uint16, 0 = missing
    synthesizer: str
    settings: dict = field(default_factory=dict)   # public settings, recorded with the release
    stats: dict = field(default_factory=dict)      # diagnostics for the summary (no sensitive input)


def _no_progress(_n=1):
    pass


def synthesize(aggregates: ProtectedAggregates, synthesizer: str, rng: np.random.Generator,
               progress=None) -> SynthesisResult:
    """Synthetic records from the protected aggregates with the named synthesizer.

    `progress(n)` is called as work is done (units of work out of 100)."""
    if synthesizer == "sds":
        return synthesize_sds(aggregates, rng, progress=progress)
    if synthesizer == "default":
        return synthesize_default(aggregates, rng, progress=progress)
    raise ValueError(f"unknown synthesizer {synthesizer!r} (choose from {', '.join(SYNTHESIZERS)})")


# --- SDS's aggregate-seeded sampler -----------------------------------------------------------

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


def synthesize_sds(aggregates: ProtectedAggregates, rng: np.random.Generator,
                   percentile: float = WEIGHT_SELECTION_PERCENTILE, progress=None) -> SynthesisResult:
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
    progress = progress or _no_progress
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
        sub_counts[0] = single               # T = (): the single items
        alive = single > 0                   # every sub-combination with the record so far exists
        n_subs, full_row = 1, 0              # full_row: the row of T = the whole record
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
            # the later candidates' new sub-combinations: T ∪ {x} ∪ {y}, T ⊆ record, |T| <= R - 2
            if len(record) + 1 < n_columns:
                for size in range(0, min(R - 2, len(record)) + 1):
                    for subset in itertools.combinations(record, size):
                        vector = children.dense(tuple(sorted(subset + (x,))))
                        sub_counts[n_subs] = vector
                        alive &= vector > 0
                        if size == len(record):
                            full_row = n_subs
                        n_subs += 1
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
    return SynthesisResult(codes, "sds", {"weight_selection_percentile": percentile},
                           {"records": len(records), "items_placed": spent})


def _n_choose(n: int, k: int) -> int:
    from math import comb
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




# --- the project's synthesizer ----------------------------------------------------------------
#
# The records are filled one column at a time, all records at once. Before column j is filled,
# records with the same items so far form a group G (g_G records, items S_G). Filling column j
# decides every protected combination whose last column in the filling order is j: the
# combinations T ∪ {x} with x a value of column j and T ⊆ S_G, |T| <= R - 1. The counts to fit at
# column j are therefore indexed by (T, x): the "rows" T are the empty combination and the
# protected combinations of length < R, the "outcomes" x are the values of column j and "missing".
#
# With B the sparse (groups x rows) 0/1 matrix "T ⊆ S_G", the work is sparse products:
# * outcome x is forbidden for group G when some T ∪ {x}, T ⊆ S_G, is not protected, so no record
#   ever holds a combination of length <= R that the aggregates lack;
# * small columns (few groups x outcomes) are solved exactly as a linear program minimising
#   Σ w_c·|count_c − protected_c|, w_c = 1 / max(protected_c, 10) scaled per length; larger ones
#   start from a log-linear model q_G(x) ∝ exp(Σ_{T ⊆ S_G} λ[T, x]) fitted by damped iterative
#   scaling, rounded per group so each group keeps its number of records;
# * an integer repair then moves records of a group from one outcome to another, or moves a value
#   from records of one group to missing records of another (which keeps its 1-count), while that
#   lowers the weighted error; a combination takes no more units towards its protected count than
#   its error (a congested one takes a random share), and a round that would raise the error is
#   undone;
# * last, each value's 1-count is brought to its protected count by the cheapest additions or
#   removals (so, like SDS's sampler, the synthetic 1-counts are the protected ones wherever the
#   aggregates leave a record free to take the value).
# The fill cannot revisit a column once it is decided, and its records come out with too few
# protected pairs and triples; the polish (polish.py) then swaps and changes single cells of the
# records against every protected count at once, under the same weights and the same rule (no
# combination the aggregates lack). The records left with no item at all are the empty records;
# the number of records is the protected record count.

@dataclass
class DefaultSettings:
    """Public settings of the default synthesizer (recorded with the release)."""
    fit_iterations: int = 6           # iterative-scaling rounds per column
    repair_rounds: int = 12           # integer-repair rounds per column, at most (the polish does
                                      # better with more time than the fill does)
    min_improvement: float = 0.0005   # a column's repair stops when two rounds gain less than this share
    moves_per_round: float = 0.05     # at most this share of the groups move in one round
    relative_floor: float = 10.0      # counts below this weigh as if they were this large ...
    small_weight: float = 0.02        # ... times this (they are not what the quality figures count)
    length_goals: tuple = (0.01, 0.04, 0.06)   # weight of lengths 1, 2, 3 ... ∝ 1 / goal (tuned on the
                                               # demonstration source: longer lengths are harder to meet)
    lp_max_cells: int = 5_000         # columns with at most this many (group, outcome) cells: exact LP
    lp_seconds: float = 30.0          # time limit of one LP, against a pathological case (then scaling)
    column_order: str = "cardinality"  # or 'fill', 'flags-first'
    polish_proposals: float = 200.0   # proposals of the global polish, per record (see polish.py)
    polish_swap_share: float = 0.93   # ... this share of them swaps (the rest: single-cell moves)

    def as_dict(self) -> dict:
        out = dict(vars(self))
        out["length_goals"] = list(self.length_goals)
        return out


class _RowSpace:
    """Row 0 is the empty combination; then every protected combination of length 1..R-1, by
    length, in key order. Knows each row's items, so a row can be extended by one item."""

    def __init__(self, counts, R: int):

        self.counts = counts
        self.R = R
        self.base = counts.base
        self.start = {0: 0}
        row = 1
        for t in range(1, R):
            self.start[t] = row
            row += len(counts.keys.get(t, ()))
        self.n = row
        self.length = np.zeros(self.n, dtype=np.int64)
        self.items = np.full((self.n, max(R - 1, 1)), -1, dtype=np.int64)
        for t in range(1, R):
            keys = counts.keys.get(t)
            if keys is None or len(keys) == 0:
                continue
            a = self.start[t]
            self.length[a:a + len(keys)] = t
            self.items[a:a + len(keys), :t] = unpack(keys, t, self.base)

    def find(self, length: int, keys: np.ndarray) -> np.ndarray:
        if length == 0:
            return np.zeros(keys.shape, dtype=np.int64)
        own = self.counts.keys.get(length)
        if own is None or len(own) == 0:
            return np.full(keys.shape, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(own, keys), len(own) - 1)
        return np.where(own[at] == keys, at + self.start[length], -1)

    def extend(self, rows: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The row of T ∪ {item} for every row T (of length <= R - 2), or -1 if not protected."""
        out = np.full(len(rows), -1, dtype=np.int64)
        lengths = self.length[rows]
        for t in np.unique(lengths):
            sel = np.flatnonzero(lengths == t)
            combo = np.concatenate([self.items[rows[sel], :t], item[sel, None]], axis=1)
            combo.sort(axis=1)
            out[sel] = self.find(int(t) + 1, pack(combo, self.base))
        return out


def combination_weights(counts, R: int, settings: "DefaultSettings") -> dict:
    """Per length k, the weight of each protected combination (aligned with counts.keys[k]) in the
    error both the column fill and the polish lower: 1 / max(protected, floor), divided by the
    length's goal and its number of combinations at or above the floor, so that the error is
    about Σ_k (mean relative error at k) / goal_k; combinations below the floor weigh less."""
    goals = list(settings.length_goals) or [1.0]
    weights = {}
    for k in range(1, R + 1):
        target = np.asarray(counts.counts.get(k, ()), dtype=np.float64)
        goal = goals[min(k, len(goals)) - 1]
        n_big = max(int(np.count_nonzero(target >= settings.relative_floor)), 1)
        weight = 1.0 / (np.maximum(target, settings.relative_floor) * goal * n_big)
        weight[target < settings.relative_floor] *= settings.small_weight
        weights[k] = weight
    return weights


def _column_entries(counts, items, rows: _RowSpace, R: int, weights: dict):
    """Per column j: every protected combination holding a value of column j, as (row of the
    rest T, outcome, protected count, weight)."""

    parts = []
    for k in range(1, R + 1):
        keys = counts.keys.get(k)
        if keys is None or len(keys) == 0:
            continue
        combos = unpack(keys, k, counts.base)
        target = counts.counts[k].astype(np.float64)
        weight = weights[k]
        for pos in range(k):
            item = combos[:, pos]
            if k > 1:
                row = rows.find(k - 1, pack(np.delete(combos, pos, axis=1), counts.base))
            else:
                row = np.zeros(len(item), np.int64)
            ok = row >= 0
            parts.append((items.column_of[item][ok], row[ok], items.code_of[item][ok] - 1,
                          target[ok], weight[ok]))
    n_columns = len(items.codebook)
    if not parts:
        empty = (np.zeros(0, np.int64),) * 2 + (np.zeros(0),) * 2
        return [empty for _ in range(n_columns)]
    cols, rws, outs, tgs, wts = (np.concatenate(p) for p in zip(*parts))
    order = np.argsort(cols, kind="stable")
    bounds = np.searchsorted(cols[order], np.arange(n_columns + 1))
    return [(rws[order[a:b]], outs[order[a:b]].astype(np.int64), tgs[order[a:b]], wts[order[a:b]])
            for a, b in zip(bounds[:-1], bounds[1:])]


def _column_order(items, counts, how: str = "cardinality") -> list[int]:
    """The filling order: 'cardinality' puts columns with many values first (cheap while records
    hold few items), then by fill; 'fill' goes by the number of records with a value."""
    sizes = np.diff(items.offsets)
    single = np.zeros(items.n_items)
    if 1 in counts.keys and len(counts.keys[1]):
        single[counts.keys[1]] = counts.counts[1]
    filled = np.bincount(items.column_of, weights=single, minlength=len(sizes))
    if how == "fill":
        return sorted(range(len(sizes)), key=lambda j: (-filled[j], j))
    if how == "flags-first":
        return sorted(range(len(sizes)), key=lambda j: (sizes[j], -filled[j], j))
    return sorted(range(len(sizes)), key=lambda j: (-sizes[j], -filled[j], j))


def synthesize_default(aggregates: ProtectedAggregates, rng: np.random.Generator,
                       settings: DefaultSettings | None = None, progress=None) -> SynthesisResult:
    """The project's synthesizer: a column-by-column fit of all protected counts, then a global
    polish (see above)."""
    import time
    from scipy import sparse

    settings = settings or DefaultSettings()
    progress = progress or _no_progress
    items = aggregates.items
    n_columns = len(items.codebook)
    R = max(aggregates.reporting_length, 1)
    counts = aggregate_counts(aggregates)
    rows = _RowSpace(counts, R)
    weights = combination_weights(counts, R, settings)
    entries = _column_entries(counts, items, rows, R, weights)
    order = _column_order(items, counts, settings.column_order)
    n = int(max(aggregates.record_count, 0))
    state = np.full((n, n_columns), -1, dtype=np.int32)      # item ids, -1 = missing
    group = np.zeros(n, dtype=np.int64)                       # records with the same items so far
    B = sparse.csr_matrix((np.ones(1), (np.zeros(1, np.int64), np.zeros(1, np.int64))), shape=(1, rows.n))
    stats = {"columns": []}
    done = 0
    for step, j in enumerate(order):
        clock = time.perf_counter()
        outcome, column = _fill_column(j, group, B, entries[j], rows, items, settings, rng)
        V = int(items.offsets[j + 1] - items.offsets[j])
        present = outcome < V
        state[present, j] = (items.offsets[j] + outcome[present]).astype(np.int32)
        if step + 1 < n_columns:
            group, B = _next_groups(group, outcome, V, B, rows, items.offsets[j])
        column["seconds"] = time.perf_counter() - clock
        stats["columns"].append(column)
        share = int(FILL_PROGRESS * (step + 1) / n_columns) - done
        if share > 0:
            progress(share)
            done += share
    if done < FILL_PROGRESS:
        progress(FILL_PROGRESS - done)
    clock = time.perf_counter()
    polished = polish(state, items.offsets, counts, weights, int(settings.polish_proposals * n),
                      settings.polish_swap_share, rng, progress=progress, chunks=100 - FILL_PROGRESS)
    stats["polish"] = {**polished.as_dict(), "seconds": time.perf_counter() - clock}
    codes = items.item_codes(state)
    codes = codes[rng.permutation(len(codes))]
    stats["empty_records"] = int(np.count_nonzero(~(codes > 0).any(axis=1))) if len(codes) else 0
    return SynthesisResult(codes, "default", settings.as_dict(), stats)


def _next_groups(group, outcome, V, B, rows: _RowSpace, offset):
    """The groups after a column is filled, (old group, outcome), and their subset matrix: a new
    group keeps its parent's subsets T and, if it took a value x, adds T ∪ {x} for |T| <= R - 2."""
    from scipy import sparse

    V1 = V + 1
    combined = group * V1 + outcome
    unique, new_group = np.unique(combined, return_inverse=True)
    parent, x = np.divmod(unique, V1)
    indptr, indices = B.indptr, B.indices
    k_parent = np.diff(indptr)
    short = rows.length[indices] <= rows.R - 2
    n_short = np.add.reduceat(short.astype(np.int64), indptr[:-1]) if len(indices) else np.zeros(len(k_parent), np.int64)
    n_short[k_parent == 0] = 0
    k_copy = k_parent[parent]
    k_ext = np.where(x < V, n_short[parent], 0)
    k_new = k_copy + k_ext
    new_indptr = np.concatenate([[0], np.cumsum(k_new)])
    new_indices = np.empty(int(new_indptr[-1]), dtype=np.int64)
    # copies of the parents' rows
    child = np.repeat(np.arange(len(parent)), k_copy)
    within = np.arange(len(child)) - np.repeat(np.cumsum(k_copy) - k_copy, k_copy)
    new_indices[new_indptr[child] + within] = indices[indptr[parent[child]] + within]
    # extensions by the new item
    takers = np.flatnonzero(k_ext > 0)
    if len(takers):
        short_pos = np.flatnonzero(short)              # in row order, so each parent's are contiguous
        first_short = np.concatenate([[0], np.cumsum(n_short)])
        kk = k_ext[takers]
        child = np.repeat(takers, kk)
        within = np.arange(len(child)) - np.repeat(np.cumsum(kk) - kk, kk)
        source = short_pos[first_short[parent[child]] + within]
        extended = rows.extend(indices[source], offset + x[child])
        if np.any(extended < 0):
            raise AssertionError("a record took a value whose combinations are not all protected")
        new_indices[new_indptr[child] + k_copy[child] + within] = extended
    data = np.ones(len(new_indices), dtype=np.float64)
    return new_group.astype(np.int64), sparse.csr_matrix((data, new_indices, new_indptr), shape=(len(parent), rows.n))


def _fill_column(j, group, B, column_entries, rows: _RowSpace, items, settings, rng):
    """Decide column j of every record; returns the outcome of each record (V = missing)."""
    n_groups = B.shape[0]
    V = int(items.offsets[j + 1] - items.offsets[j])
    V1 = V + 1
    g = np.bincount(group, minlength=n_groups).astype(np.float64)
    e_rows, e_out, e_target, e_weight = column_entries
    target = np.zeros((rows.n, V1))
    weight = np.zeros((rows.n, V1))
    target[e_rows, e_out] = e_target
    weight[e_rows, e_out] = e_weight
    fit = target > 0
    allowed = fit.copy()
    allowed[:, V] = True
    forbidden = (B @ (~allowed).astype(np.float64)) > 0.5        # (groups x outcomes)
    used = np.zeros(rows.n, dtype=bool)
    used[B.indices] = True
    fit &= used[:, None]
    counts = None
    method = "lp"
    if int((~forbidden).sum()) <= settings.lp_max_cells:
        counts = _lp_counts(B, g, target, weight, fit, forbidden, rng, settings.lp_seconds)
    if counts is None:
        method = "scaling"
        counts = _scaled_counts(B, g, target, weight, fit, forbidden, settings.fit_iterations, rng)
    error_start = _column_error(B, counts, target, weight, fit)
    rounds = _repair_column(B, counts, target, weight, fit, forbidden, settings, rng)
    _meet_single_counts(B, counts, target, weight, fit, forbidden)
    error_end = _column_error(B, counts, target, weight, fit)
    # hand the outcomes to the records, in random order within each group
    order = np.lexsort((rng.random(len(group)), group))
    outcome = np.empty(len(group), dtype=np.int64)
    outcome[order] = np.repeat(np.tile(np.arange(V1), n_groups), counts.ravel())
    return outcome, {"column": items.codebook.attributes[j].name, "groups": int(n_groups),
                     "subsets": int(B.nnz), "method": method, "error_start": error_start,
                     "error_end": error_end, "repair_rounds": rounds}


def _column_error(B, counts, target, weight, fit) -> float:
    current = B.T @ counts.astype(np.float64)
    return float(np.sum((weight * np.abs(current - target))[fit]))


def _round_per_group(values: np.ndarray, g: np.ndarray, forbidden: np.ndarray, rng) -> np.ndarray:
    """Integer counts per group from fractional ones, keeping each group's total (systematic
    rounding with a random start)."""
    n_groups = len(g)
    cumulative = np.cumsum(values, axis=1)
    cumulative[:, -1] = g
    whole = np.minimum(np.floor(cumulative + rng.random(n_groups)[:, None]), g[:, None])
    counts = np.diff(np.concatenate([np.zeros((n_groups, 1)), whole], axis=1), axis=1)
    counts = np.rint(np.maximum(counts, 0)).astype(np.int64)
    counts[forbidden] = 0
    counts[:, -1] += g.astype(np.int64) - counts.sum(axis=1)
    return counts


def _lp_counts(B, g, target, weight, fit, forbidden, rng, time_limit=2.0):
    """Outcome counts per group minimising Σ w·|count − protected| exactly (HiGHS), rounded per
    group (a vertex solution has few fractional counts). None if the solver fails."""
    from scipy import sparse
    from scipy.optimize import linprog

    n_groups, V1 = forbidden.shape
    cell_g, cell_x = np.nonzero(~forbidden)                   # variables n[G, x]
    n_vars = len(cell_g)
    fit_t, fit_x = np.nonzero(fit)                            # fitted combinations (T, x)
    n_fit = len(fit_t)
    fit_index = np.full(B.shape[1] * V1, -1, dtype=np.int64)
    fit_index[fit_t * V1 + fit_x] = np.arange(n_fit)
    var_rep, t_rows = _expand_rows(B, cell_g)
    constraint = fit_index[t_rows * V1 + cell_x[var_rep]]
    use = constraint >= 0
    a_rows = np.concatenate([constraint[use], np.arange(n_fit), np.arange(n_fit), n_fit + cell_g])
    a_cols = np.concatenate([var_rep[use], n_vars + np.arange(n_fit), n_vars + n_fit + np.arange(n_fit),
                             np.arange(n_vars)])
    a_vals = np.concatenate([np.ones(int(use.sum())), -np.ones(n_fit), np.ones(n_fit), np.ones(n_vars)])
    A = sparse.csr_matrix((a_vals, (a_rows, a_cols)), shape=(n_fit + n_groups, n_vars + 2 * n_fit))
    b = np.concatenate([target[fit_t, fit_x], g])
    w = weight[fit_t, fit_x]
    c = np.concatenate([np.zeros(n_vars), w, w])
    try:
        result = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs",
                         options={"time_limit": time_limit})
    except ValueError:
        return None
    if result.status != 0 or result.x is None:
        return None
    values = np.zeros((n_groups, V1))
    values[cell_g, cell_x] = np.maximum(result.x[:n_vars], 0.0)
    return _round_per_group(values, g, forbidden, rng)


def _scaled_counts(B, g, target, weight, fit, forbidden, iterations, rng):
    """Outcome counts per group from a log-linear model fitted by damped iterative scaling."""
    n_groups, V1 = forbidden.shape
    BT = B.T
    K = np.diff(B.indptr).astype(np.float64)
    reach = BT @ g
    mean_k = (BT @ (g * K)) / np.maximum(reach, 1e-12)
    step = 1.0 / np.maximum(mean_k, 1.0)
    lam = np.zeros((B.shape[1], V1))
    log_target = np.log(np.where(fit, target, 1.0))

    def distribution():
        logits = B @ lam
        logits[forbidden] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        q = np.exp(logits)
        q /= q.sum(axis=1, keepdims=True)
        return q

    for _ in range(max(iterations, 0)):
        q = distribution()
        expected = BT @ (g[:, None] * q)
        ok = fit & (expected > 1e-9)
        lam[ok] += (step[:, None] * (log_target - np.log(np.maximum(expected, 1e-12))))[ok]
    return _round_per_group(g[:, None] * distribution(), g, forbidden, rng)


def _expand_rows(B, groups):
    """(index into `groups`, row) for every row T of every listed group (B's CSR rows)."""
    indptr, indices = B.indptr, B.indices
    k = np.diff(indptr)[groups]
    owner = np.repeat(np.arange(len(groups)), k)
    start = np.repeat(indptr[groups], k)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    return owner, indices[start + offset]


def _repair_column(B, counts, target, weight, fit, forbidden, settings, rng) -> int:
    """Greedy integer repair of one column's outcome counts per group (in place); returns the
    number of rounds. Odd rounds move records within a group (u -> v, the best pair per group),
    even rounds relocate values between groups (see the comment above `DefaultSettings`).
    The counts of the combinations and the gains of the moves are updated incrementally: a round
    touches only the groups that moved and the combinations whose error changed sign."""
    n_groups, V1 = counts.shape
    V = V1 - 1
    by_row = B.tocsc()
    all_groups = np.arange(n_groups)
    w = np.where(fit, weight, 0.0)
    current = B.T @ counts.astype(np.float64)
    error = np.where(fit, current - target, 0.0)
    up = w * np.where(error >= 0, 1.0, -1.0)           # change of the weighted error per +1
    down = w * np.where(error <= 0, 1.0, -1.0)         # per -1
    add_raw = B @ up
    remove_raw = B @ down
    objective = float(np.sum(w * np.abs(error)))
    stalled = 0
    strict = False
    rounds = 0
    for rounds in range(1, settings.repair_rounds + 1):
        add_gain = add_raw.copy()
        add_gain[forbidden] = np.inf
        remove_gain = remove_raw.copy()
        remove_gain[counts <= 0] = np.inf
        relocation = not (rounds % 2 == 1 or V == 0)
        if relocation:
            moves = _relocations(add_gain, remove_gain, up[0], down[0], counts, V)
        else:
            moves = _single_moves(add_gain, remove_gain, counts, all_groups)
        if moves is None:
            if relocation or V == 0:
                stalled += 1
                if stalled >= 2:
                    break
            continue
        moves = _best_moves(moves, settings.moves_per_round, n_groups)
        part_move, part_group, part_out, part_sign, _units, _gains = moves
        units = _limit_units(B, counts, moves, error, fit, rng, strict, relocation)
        if not (units > 0).any():
            stalled += 1
            if stalled >= 2:
                break
            continue
        delta = part_sign * units[part_move]
        keep = delta != 0
        moved = np.unique(part_group[keep])
        local = np.searchsorted(moved, part_group[keep])
        change = np.zeros((len(moved), V1))
        np.add.at(change, (local, part_out[keep]), delta[keep])
        new_current = current + B[moved].T @ change
        new_error = np.where(fit, new_current - target, 0.0)
        new_objective = float(np.sum(w * np.abs(new_error)))
        if new_objective > objective + 1e-12:                 # congestion overshot: try again, strictly
            strict = True
            continue
        counts[moved] += np.rint(change).astype(np.int64)
        strict = False
        new_up = w * np.where(new_error >= 0, 1.0, -1.0)
        new_down = w * np.where(new_error <= 0, 1.0, -1.0)
        flipped = np.flatnonzero(((new_up != up) | (new_down != down)).any(axis=1))
        if len(flipped):
            columns = by_row[:, flipped]
            add_raw += columns @ (new_up[flipped] - up[flipped])
            remove_raw += columns @ (new_down[flipped] - down[flipped])
        gained = objective - new_objective
        current, error, up, down, objective = new_current, new_error, new_up, new_down, new_objective
        stalled = stalled + 1 if gained < settings.min_improvement * max(objective, 1e-12) else 0
        if stalled >= 2:
            break
    return rounds


def _meet_single_counts(B, counts, target, weight, fit, forbidden) -> None:
    """Bring each value's 1-count to its protected count (in place), where records allow: an
    excess goes to missing in the groups where losing the value costs least, a shortfall is
    taken from missing records of the groups where gaining it costs least (costs from the
    column's other combinations, as the repair weighs them)."""
    n_groups, V1 = counts.shape
    V = V1 - 1
    if V == 0:
        return
    current = B.T @ counts.astype(np.float64)
    error = np.where(fit, current - target, 0.0)
    w = np.where(fit, weight, 0.0)
    up = w * np.where(error >= 0, 1.0, -1.0)
    down = w * np.where(error <= 0, 1.0, -1.0)
    up[0], down[0] = 0.0, 0.0                       # the 1-counts themselves are what is fixed here
    add_cost = B @ up
    add_cost[forbidden] = np.inf
    remove_cost = B @ down
    gap = np.rint(error[0, :V]).astype(np.int64)
    gap[~fit[0, :V]] = 0
    for x in np.flatnonzero(gap > 0):               # too many records hold x: drop it where cheapest
        holders = np.flatnonzero(counts[:, x] > 0)
        order = holders[np.argsort(remove_cost[holders, x], kind="stable")]
        take = np.minimum(counts[order, x], np.maximum(gap[x] - (np.cumsum(counts[order, x]) - counts[order, x]), 0))
        counts[order, x] -= take
        counts[order, V] += take
    for x in np.flatnonzero(gap < 0):               # too few: give it to missing records
        open_groups = np.flatnonzero((counts[:, V] > 0) & np.isfinite(add_cost[:, x]))
        order = open_groups[np.argsort(add_cost[open_groups, x], kind="stable")]
        need = -gap[x]
        take = np.minimum(counts[order, V], np.maximum(need - (np.cumsum(counts[order, V]) - counts[order, V]), 0))
        counts[order, x] += take
        counts[order, V] -= take


def _best_moves(moves, share: float, n_groups: int):
    """At most `share` x groups moves a round, the best ones (they would mostly crowd each other)."""
    part_move, part_group, part_out, part_sign, units, gains = moves
    limit = max(1000, int(share * n_groups))
    if len(gains) <= limit:
        return moves
    best = np.argpartition(gains, limit)[:limit]
    renumber = np.full(len(gains), -1, dtype=np.int64)
    renumber[best] = np.arange(limit)
    blocks = len(part_move) // len(gains)
    part_idx = (np.arange(blocks)[:, None] * len(gains) + best[None, :]).ravel()
    return (renumber[part_move[part_idx]], part_group[part_idx], part_out[part_idx], part_sign[part_idx],
            units[best], gains[best])


def _single_moves(add_gain, remove_gain, counts, all_groups):
    """The best (u -> v) per group, when it lowers the error."""
    v = add_gain.argmin(axis=1)
    masked = remove_gain.copy()
    masked[all_groups, v] = np.inf
    u = masked.argmin(axis=1)
    gain = add_gain[all_groups, v] + masked[all_groups, u]
    movers = np.flatnonzero(gain < -1e-12)
    if len(movers) == 0:
        return None
    n = len(movers)
    idx = np.arange(n)
    return (np.concatenate([idx, idx]), np.concatenate([movers, movers]),
            np.concatenate([v[movers], u[movers]]), np.concatenate([np.ones(n), -np.ones(n)]),
            counts[movers, u[movers]].astype(np.float64), gain[movers])


def _relocations(add_gain, remove_gain, up_empty, down_empty, counts, V):
    """Value v leaves one record of group G1 (which becomes missing) for a missing record of
    group G2; scored without the empty row T = ∅, whose count (the 1-count of v) does not change."""
    give = remove_gain[:, :V] - down_empty[None, :V]
    receive = add_gain[:, :V] - up_empty[None, :V]
    d_group, d_value = np.nonzero((counts[:, :V] > 0) & np.isfinite(give))
    t_group, t_value = np.nonzero((counts[:, V:] > 0) & np.isfinite(receive))
    g1, g2, value, gain = _pair_up(d_group, d_value, give[d_group, d_value],
                                   t_group, t_value, receive[t_group, t_value])
    keep = (gain < -1e-12) & (g1 != g2)
    g1, g2, value, gain = g1[keep], g2[keep], value[keep], gain[keep]
    if len(g1) == 0:
        return None
    n = len(g1)
    idx = np.arange(n)
    missing = np.full(n, V)
    return (np.concatenate([idx, idx, idx, idx]), np.concatenate([g1, g1, g2, g2]),
            np.concatenate([value, missing, value, missing]),
            np.concatenate([-np.ones(n), np.ones(n), np.ones(n), -np.ones(n)]),
            np.ones(n), gain)


def _limit_units(B, counts, moves, error, fit, rng, strict, relocation):
    """How many units each move may make (0 = not this round): no group gives more records than
    it has, and a combination takes no more units towards its protected count than its error;
    where more is asked, a random share of the moves (or, after an overshoot, none) go ahead."""
    part_move, part_group, part_out, part_sign, units, _gains = moves
    n_moves = len(units)
    n_parts = len(part_group)
    blocks = n_parts // max(n_moves, 1)
    V1 = error.shape[1]
    units = units.copy()
    # the combinations (T, outcome) of every part; "helpful" ones move towards the protected count
    owner, t_rows = _expand_rows(B, part_group)
    starts = np.concatenate([[0], np.cumsum(np.diff(B.indptr)[part_group])[:-1]])
    cells = t_rows * V1 + part_out[owner]
    cell_err = error.ravel()[cells]
    helps = fit.ravel()[cells] & (cell_err * part_sign[owner] < 0)
    if relocation:          # the two halves share the empty row (the 1-count does not change)
        helps &= t_rows != 0
    cap = np.abs(cell_err)
    limit = np.minimum.reduceat(np.where(helps, cap, np.inf), starts)
    per_move = limit.reshape(blocks, n_moves).min(axis=0)
    units = np.maximum(np.minimum(units, per_move), 1.0)
    units[~np.isfinite(units)] = 1.0
    # congestion: more units asked of a combination than its error
    asked_units = units[part_move[owner]]
    demand = np.bincount(cells[helps], weights=asked_units[helps], minlength=error.size)
    over = helps & (demand[cells] > cap + 1e-9)
    if over.any():
        ratio = np.ones(len(cells))
        ratio[over] = cap[over] / demand[cells[over]]
        share = np.minimum.reduceat(ratio, starts).reshape(blocks, n_moves).min(axis=0)
        if strict:
            units[share < 1.0] = 0.0
        else:
            units[rng.random(n_moves) > share] = 0.0
    # no group may give more records of an outcome than it has
    giving = part_sign < 0
    cell = part_group[giving] * V1 + part_out[giving]
    asked = np.bincount(cell, weights=units[part_move[giving]], minlength=counts.size)
    overdrawn = asked[cell] > counts.ravel()[cell] + 1e-9
    if overdrawn.any():
        units[part_move[giving][overdrawn]] = 0.0
    return units


def _pair_up(d_group, d_value, d_score, t_group, t_value, t_score):
    """Pair donors and takers of the same value, best with best: the i-th best donor of v with
    the i-th best taker of v. Returns (donor group, taker group, value, pair score)."""
    if len(d_group) == 0 or len(t_group) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, np.zeros(0)
    d_order = np.lexsort((d_score, d_value))
    t_order = np.lexsort((t_score, t_value))
    d_group, d_value, d_score = d_group[d_order], d_value[d_order], d_score[d_order]
    t_group, t_value, t_score = t_group[t_order], t_value[t_order], t_score[t_order]
    n_values = int(max(d_value.max(), t_value.max())) + 1
    d_count = np.bincount(d_value, minlength=n_values)
    t_count = np.bincount(t_value, minlength=n_values)
    d_start = np.cumsum(d_count) - d_count
    t_start = np.cumsum(t_count) - t_count
    take = np.minimum(d_count, t_count)
    value = np.repeat(np.arange(n_values), take)
    rank = np.arange(len(value)) - np.repeat(np.cumsum(take) - take, take)
    di = d_start[value] + rank
    ti = t_start[value] + rank
    return d_group[di], t_group[ti], value, d_score[di] + t_score[ti]
