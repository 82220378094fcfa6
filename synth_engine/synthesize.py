"""The synthesize stage: synthetic records made from the protected aggregates alone.

Both synthesizers read only a `ProtectedAggregates` (the differentially private counts of
combinations of length 1..R and the protected record count); they never see a sensitive record,
so everything they output is post-processing of differentially private figures.

* `sds` — Synthetic Data Showcase's aggregate-seeded sampler (sds-method.md), kept as the
  baseline to measure against: records are grown one item at a time, each draw weighted by a
  protected count, until the single items' budgets are spent.
* `default` — the project's own (see `synthesize_default`): a large pool of candidate records
  drawn column by column from conditional distributions estimated from the protected counts,
  every sub-combination of length <= R checked against the aggregates, then an integer number of
  copies of each candidate fitted to all protected counts at once.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from synth_engine.aggregates import ProtectedAggregates
from synth_engine.evaluate import aggregate_counts, pack

SYNTHESIZERS = ("default", "sds")
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
# Records are filled in one column at a time, for all records at once. Before column j is
# filled, records with the same items so far form a group G (g_G records, items S_G). Filling
# column j decides every protected combination whose last column (in the filling order) is j:
# the combinations T ∪ {x}, x a value of column j and T ⊆ S_G with |T| <= R - 1. So the counts
# to fit at column j are indexed by (T, x): the "rows" T are the empty set and the protected
# combinations of length < R, the "outcomes" x the values of column j plus "missing".
#
# With B the (groups x rows) 0/1 matrix "T ⊆ S_G", everything is a sparse product:
#   * an outcome x is forbidden for group G when some T ∪ {x}, T ⊆ S_G, is not protected —
#     so no record ever holds a combination of length <= R outside the aggregates;
#   * a log-linear model q_G(x) ∝ exp(Σ_{T ⊆ S_G} λ[T, x]) is fitted by damped iterative
#     scaling so that the expected counts Bᵀ·(g·q) meet the protected counts;
#   * the expected counts are rounded per group (systematic rounding keeps each group's total);
#   * an integer repair then moves records of a group from one outcome to another while that
#     lowers the weighted L1 error Σ w_c·|count_c − protected_c|, w_c = 1 / max(protected_c, 10)
#     scaled per length; a combination accepts no more moves in its favourable direction than
#     its error, so every round lowers the error.
# Counts decided at column j never change afterwards, so the final error of every combination is
# the error left when its column was filled. Records that end with no item at all are the
# empty records; the number of records is the protected record count.

@dataclass
class DefaultSettings:
    """Public settings of the default synthesizer (recorded with the release)."""
    fit_iterations: int = 12          # iterative-scaling rounds per column
    repair_rounds: int = 40           # at most this many integer-repair rounds per column
    relative_floor: float = 10.0      # counts below this weigh as if they were this large
    length_goals: tuple = (0.01, 0.05, 0.10)   # relative weight of lengths 1, 2, 3 (and beyond: the last)

    def as_dict(self) -> dict:
        out = dict(vars(self))
        out["length_goals"] = list(self.length_goals)
        return out


class _RowSpace:
    """Row 0 is the empty combination; then every protected combination of length 1..R-1."""

    def __init__(self, counts, R: int):
        self.counts = counts
        self.start = {0: 0}
        row = 1
        for t in range(1, R):
            self.start[t] = row
            row += len(counts.keys.get(t, ()))
        self.n = row

    def find(self, length: int, keys: np.ndarray) -> np.ndarray:
        if length == 0:
            return np.zeros(keys.shape, dtype=np.int64)
        own = self.counts.keys.get(length)
        if own is None or len(own) == 0:
            return np.full(keys.shape, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(own, keys), len(own) - 1)
        return np.where(own[at] == keys, at + self.start[length], -1)


def _index_tuples(size: int, length: int) -> np.ndarray:
    found = _TUPLES.get((size, length))
    if found is None:
        found = np.array(list(itertools.combinations(range(size), length)), dtype=np.intp).reshape(-1, length)
        _TUPLES[(size, length)] = found
    return found


_TUPLES: dict[tuple[int, int], np.ndarray] = {}


def _column_entries(counts, items, rows: _RowSpace, R: int, settings: DefaultSettings):
    """Every protected combination as (column of its decided item, row T, outcome, count, weight),
    once per item of the combination (which one is decided last depends on the order)."""
    from synth_engine.evaluate import unpack

    goals = list(settings.length_goals)
    parts = []
    for k in range(1, R + 1):
        keys = counts.keys.get(k)
        if keys is None or len(keys) == 0:
            continue
        combos = unpack(keys, k, counts.base)
        target = counts.counts[k].astype(np.float64)
        goal = goals[min(k, len(goals)) - 1]
        n_big = max(int(np.count_nonzero(target >= settings.relative_floor)), 1)
        weight = 1.0 / (np.maximum(target, settings.relative_floor) * goal * n_big)
        for pos in range(k):
            item = combos[:, pos]
            rest = np.delete(combos, pos, axis=1)
            row = rows.find(k - 1, pack(rest, counts.base)) if k > 1 else np.zeros(len(item), np.int64)
            ok = row >= 0
            parts.append((items.column_of[item][ok], row[ok], items.code_of[item][ok] - 1,
                          target[ok], weight[ok], np.full(int(ok.sum()), k)))
    cols, rws, outs, tgs, wts, lens = (np.concatenate(p) for p in zip(*parts))
    order = np.argsort(cols, kind="stable")
    bounds = np.searchsorted(cols[order], np.arange(len(items.codebook) + 1))
    return [(rws[order[a:b]], outs[order[a:b]], tgs[order[a:b]], wts[order[a:b]], lens[order[a:b]])
            for a, b in zip(bounds[:-1], bounds[1:])]


def _column_order(items, counts) -> list[int]:
    """Columns with many values first (cheap while records hold few items), then by fill."""
    sizes = np.diff(items.offsets)
    single = np.zeros(items.n_items)
    if 1 in counts.keys and len(counts.keys[1]):
        single[counts.keys[1]] = counts.counts[1]
    filled = np.bincount(items.column_of, weights=single, minlength=len(sizes))
    return sorted(range(len(sizes)), key=lambda j: (-sizes[j], -filled[j], j))


def synthesize_default(aggregates: ProtectedAggregates, rng: np.random.Generator,
                       settings: DefaultSettings | None = None, progress=None) -> SynthesisResult:
    """The project's synthesizer: column-by-column fit of all protected counts (see above)."""
    import time

    settings = settings or DefaultSettings()
    progress = progress or _no_progress
    items = aggregates.items
    n_columns = len(items.codebook)
    R = max(aggregates.reporting_length, 1)
    counts = aggregate_counts(aggregates)
    rows = _RowSpace(counts, R)
    entries = _column_entries(counts, items, rows, R, settings)
    order = _column_order(items, counts)
    n = int(max(aggregates.record_count, 0))
    state = np.full((n, n_columns), -1, dtype=np.int32)      # item ids, -1 = missing
    group = np.zeros(n, dtype=np.int64)                       # records with the same items so far
    group_items = np.full((1 if n else 0, n_columns), -1, dtype=np.int32)
    stats = {"columns": []}
    done = 0
    for step, j in enumerate(order):
        clock = time.perf_counter()
        column = _fill_column(j, state, group, group_items, entries[j], rows, items, R, settings, rng)
        column["seconds"] = time.perf_counter() - clock
        stats["columns"].append(column)
        # regroup: the new groups are (old group, outcome of column j)
        outcome = state[:, j].astype(np.int64) + 1
        combined = group * (int(items.n_items) + 1) + outcome
        unique, first, group = np.unique(combined, return_index=True, return_inverse=True)
        group_items = state[first]
        share = int(100 * (step + 1) / n_columns) - done
        if share > 0:
            progress(share)
            done += share
    if done < 100:
        progress(100 - done)
    codes = _items_to_codes(state, items)
    codes = codes[rng.permutation(len(codes))]
    stats["empty_records"] = int(np.count_nonzero(~(codes > 0).any(axis=1))) if len(codes) else 0
    return SynthesisResult(codes, "default", settings.as_dict(), stats)


def _subset_matrix(group_items: np.ndarray, rows: _RowSpace, R: int, base: int):
    """B: (groups x rows) CSR, B[G, T] = 1 for every T ⊆ S_G with |T| <= R - 1."""
    from scipy import sparse

    present = group_items >= 0
    size = present.sum(axis=1)
    big = np.iinfo(np.int32).max
    packed = np.sort(np.where(present, group_items, big), axis=1)
    g_parts, r_parts = [], []
    for s in np.unique(size):
        gs = np.flatnonzero(size == s)
        its = packed[gs, :s].astype(np.int64)
        for t in range(0, min(R - 1, int(s)) + 1):
            if t == 0:
                found = np.zeros((len(gs), 1), dtype=np.int64)
            else:
                tuples = _index_tuples(int(s), t)
                keys = np.zeros((len(gs), len(tuples)), dtype=np.int64)
                for c in range(t):
                    keys = keys * base + its[:, tuples[:, c]]
                found = rows.find(t, keys)
            g_idx = np.repeat(gs, found.shape[1])
            flat = found.ravel()
            ok = flat >= 0
            g_parts.append(g_idx[ok])
            r_parts.append(flat[ok])
    g_all = np.concatenate(g_parts)
    r_all = np.concatenate(r_parts)
    active, r_local = np.unique(r_all, return_inverse=True)
    B = sparse.csr_matrix((np.ones(len(g_all), dtype=np.float64), (g_all, r_local)),
                          shape=(len(group_items), len(active)))
    return B, active


def _fill_column(j, state, group, group_items, column_entries, rows, items, R, settings, rng):
    """Decide column j of every record (see the comment above `DefaultSettings`)."""
    n_groups = len(group_items)
    V = int(items.offsets[j + 1] - items.offsets[j])
    V1 = V + 1                                   # outcome V = missing
    g = np.bincount(group, minlength=n_groups).astype(np.float64)
    B, active = _subset_matrix(group_items, rows, R, items_base(items, R))
    n_active = len(active)
    e_rows, e_out, e_target, e_weight, _e_len = column_entries
    local = np.searchsorted(active, e_rows)
    local = np.minimum(local, max(n_active - 1, 0))
    use = (n_active > 0) & (active[local] == e_rows) if n_active else np.zeros(len(e_rows), bool)
    target = np.zeros((n_active, V1))
    weight = np.zeros((n_active, V1))
    target[local[use], e_out[use]] = e_target[use]
    weight[local[use], e_out[use]] = e_weight[use]
    allowed = target > 0
    allowed[:, V] = True
    forbidden = (B @ (~allowed).astype(np.float64)) > 0.5        # (groups x V1)
    BT = B.T.tocsr()
    # --- iterative scaling of the log-linear model
    K = np.asarray(B.sum(axis=1)).ravel()
    mean_k = (BT @ (g * K)) / np.maximum(BT @ g, 1e-12)
    step = 1.0 / np.maximum(mean_k, 1.0)
    lam = np.zeros((n_active, V1))
    fit = allowed.copy()
    fit[:, V] = False
    log_target = np.log(np.where(fit, target, 1.0))
    q = None
    for _ in range(max(settings.fit_iterations, 1)):
        logits = B @ lam
        logits[forbidden] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        q = np.exp(logits)
        q /= q.sum(axis=1, keepdims=True)
        expected = BT @ (g[:, None] * q)
        ok = fit & (expected > 1e-9)
        lam[ok] += (step[:, None] * (log_target - np.log(np.maximum(expected, 1e-12))))[ok]
    logits = B @ lam
    logits[forbidden] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    q = np.exp(logits)
    q /= q.sum(axis=1, keepdims=True)
    continuous_error = float(np.sum((weight * np.abs(BT @ (g[:, None] * q) - target))[fit]))
    # --- systematic rounding per group
    cumulative = np.cumsum(g[:, None] * q, axis=1)
    cumulative[:, -1] = g
    shift = rng.random(n_groups)[:, None]
    whole = np.floor(cumulative + shift)
    whole = np.minimum(whole, g[:, None])
    counts = np.diff(np.concatenate([np.zeros((n_groups, 1)), whole], axis=1), axis=1)
    counts = np.rint(counts).astype(np.int64)
    # --- integer repair
    error_before = _column_error(BT, counts, target, weight, fit)
    rounds = _repair_column(B, BT, counts, target, weight, fit, forbidden, settings.repair_rounds, rng)
    error_after = _column_error(BT, counts, target, weight, fit)
    # --- hand the outcomes to the records, in random order within each group
    order = np.lexsort((rng.random(len(group)), group))
    outcome = np.repeat(np.tile(np.arange(V1), n_groups), counts.ravel())
    values = np.full(len(group), -1, dtype=np.int32)
    chosen = outcome < V
    values[order[chosen]] = (items.offsets[j] + outcome[chosen]).astype(np.int32)
    state[:, j] = values
    return {"column": items.codebook.attributes[j].name, "groups": int(n_groups), "rows": int(n_active),
            "subsets": int(B.nnz), "error_continuous": continuous_error, "error_rounded": error_before, "error_repaired": error_after,
            "repair_rounds": rounds}


def items_base(items, R):
    from synth_engine.evaluate import key_base
    return key_base(items, R)


def _column_error(BT, counts, target, weight, fit) -> float:
    current = BT @ counts.astype(np.float64)
    return float(np.sum((weight * np.abs(current - target))[fit]))


def _repair_column(B, BT, counts, target, weight, fit, forbidden, rounds, rng) -> int:
    """Greedy integer repair of one column's outcome counts per group (in place)."""
    n_groups, V1 = counts.shape
    indptr, indices = B.indptr, B.indices
    K = np.diff(indptr)
    done = 0
    for done in range(1, rounds + 1):
        error = BT @ counts.astype(np.float64) - target
        error[~fit] = 0.0
        w = np.where(fit, weight, 0.0)
        up = w * np.where(error >= 0, 1.0, -1.0)           # change of the error per +1
        down = w * np.where(error <= 0, 1.0, -1.0)         # per -1
        add_gain = B @ up
        add_gain[forbidden] = np.inf
        remove_gain = B @ down
        remove_gain[counts <= 0] = np.inf
        v = add_gain.argmin(axis=1)
        masked = remove_gain.copy()
        masked[np.arange(n_groups), v] = np.inf
        u = masked.argmin(axis=1)
        gain = add_gain[np.arange(n_groups), v] + masked[np.arange(n_groups), u]
        movers = np.flatnonzero(gain < -1e-12)
        if len(movers) == 0:
            break
        mv, mu = v[movers], u[movers]
        # the combinations each move touches: (T, v) up and (T, u) down for T ⊆ S_G
        k = K[movers]
        move_of = np.repeat(np.arange(len(movers)), k)
        start = np.repeat(indptr[movers], k)
        offset = np.arange(len(move_of)) - np.repeat(np.cumsum(k) - k, k)
        t_rows = indices[start + offset]
        up_err = error[t_rows, mv[move_of]]
        down_err = error[t_rows, mu[move_of]]
        up_fit = fit[t_rows, mv[move_of]]
        down_fit = fit[t_rows, mu[move_of]]
        help_up = up_fit & (up_err < 0)
        help_down = down_fit & (down_err > 0)
        # units: at most the group's count at u and each helped combination's error
        units = counts[movers, mu].astype(np.float64)
        cap = np.full(len(move_of), np.inf)
        cap[help_up] = -up_err[help_up]
        cap[help_down] = np.minimum(cap[help_down], down_err[help_down])
        per_move_cap = np.full(len(movers), np.inf)
        np.minimum.at(per_move_cap, move_of, cap)
        units = np.maximum(np.minimum(units, per_move_cap), 1.0)
        # capacity: per helped combination, moves in order of gain until its error is used up
        priority = np.empty(len(movers), dtype=np.int64)
        priority[np.argsort(gain[movers], kind="stable")] = np.arange(len(movers))
        cells = np.concatenate([(t_rows * V1 + mv[move_of])[help_up], (t_rows * V1 + mu[move_of])[help_down]])
        cell_move = np.concatenate([move_of[help_up], move_of[help_down]])
        capacity = np.concatenate([-up_err[help_up], down_err[help_down]])
        ordering = np.lexsort((priority[cell_move], cells))
        cells, cell_move, capacity = cells[ordering], cell_move[ordering], capacity[ordering]
        demand = units[cell_move]
        running = np.cumsum(demand)
        first = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
        base_sum = np.repeat(running[first] - demand[first], np.diff(np.r_[first, len(cells)]))
        over = (running - base_sum) > capacity + 1e-9
        rejected = np.zeros(len(movers), dtype=bool)
        rejected[cell_move[over]] = True
        keep = ~rejected
        if not keep.any():
            break
        gm, vm, um, un = movers[keep], mv[keep], mu[keep], units[keep].astype(np.int64)
        np.add.at(counts, (gm, vm), un)
        np.add.at(counts, (gm, um), -un)
    return done


def _items_to_codes(item_matrix: np.ndarray, items) -> np.ndarray:
    codes = np.zeros(item_matrix.shape, dtype=np.uint16)
    present = item_matrix >= 0
    codes[present] = items.code_of[item_matrix[present]]
    return codes
