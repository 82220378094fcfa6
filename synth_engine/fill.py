"""The default synthesizer's column fill: all records are filled one column at a time, each column's
values chosen for all records at once (see the comment above `DefaultSettings` in synthesize.py)."""

from __future__ import annotations

import numpy as np

from data.aggregates import pack, unpack
from synth_engine.repair import expand_rows, meet_single_counts, repair_column


class RowSpace:
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
            self.length[a : a + len(keys)] = t
            self.items[a : a + len(keys), :t] = unpack(keys, t, self.base)

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


def column_entries(counts, items, rows: RowSpace, R: int, weights: dict):
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
            parts.append((items.column_of[item][ok], row[ok], items.code_of[item][ok] - 1, target[ok], weight[ok]))
    n_columns = len(items.codebook)
    if not parts:
        empty = (np.zeros(0, np.int64),) * 2 + (np.zeros(0),) * 2
        return [empty for _ in range(n_columns)]
    cols, rws, outs, tgs, wts = (np.concatenate(p) for p in zip(*parts))
    order = np.argsort(cols, kind="stable")
    bounds = np.searchsorted(cols[order], np.arange(n_columns + 1))
    return [
        (rws[order[a:b]], outs[order[a:b]].astype(np.int64), tgs[order[a:b]], wts[order[a:b]])
        for a, b in zip(bounds[:-1], bounds[1:])
    ]


def column_order(items, counts, how: str = "cardinality") -> list[int]:
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


def next_groups(group, outcome, V, B, rows: RowSpace, offset):
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
    n_short = (
        np.add.reduceat(short.astype(np.int64), indptr[:-1]) if len(indices) else np.zeros(len(k_parent), np.int64)
    )
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
        short_pos = np.flatnonzero(short)  # in row order, so each parent's are contiguous
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


def fill_column(j, group, B, column_entries, rows: RowSpace, items, settings, rng):
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
    forbidden = (B @ (~allowed).astype(np.float64)) > 0.5  # (groups x outcomes)
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
    rounds = repair_column(B, counts, target, weight, fit, forbidden, settings, rng)
    meet_single_counts(B, counts, target, weight, fit, forbidden)
    error_end = _column_error(B, counts, target, weight, fit)
    # hand the outcomes to the records, in random order within each group
    order = np.lexsort((rng.random(len(group)), group))
    outcome = np.empty(len(group), dtype=np.int64)
    outcome[order] = np.repeat(np.tile(np.arange(V1), n_groups), counts.ravel())
    return outcome, {
        "column": items.codebook.attributes[j].name,
        "groups": int(n_groups),
        "subsets": int(B.nnz),
        "method": method,
        "error_start": error_start,
        "error_end": error_end,
        "repair_rounds": rounds,
    }


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
    cell_g, cell_x = np.nonzero(~forbidden)  # variables n[G, x]
    n_vars = len(cell_g)
    fit_t, fit_x = np.nonzero(fit)  # fitted combinations (T, x)
    n_fit = len(fit_t)
    fit_index = np.full(B.shape[1] * V1, -1, dtype=np.int64)
    fit_index[fit_t * V1 + fit_x] = np.arange(n_fit)
    var_rep, t_rows = expand_rows(B, cell_g)
    constraint = fit_index[t_rows * V1 + cell_x[var_rep]]
    use = constraint >= 0
    a_rows = np.concatenate([constraint[use], np.arange(n_fit), np.arange(n_fit), n_fit + cell_g])
    a_cols = np.concatenate(
        [var_rep[use], n_vars + np.arange(n_fit), n_vars + n_fit + np.arange(n_fit), np.arange(n_vars)]
    )
    a_vals = np.concatenate([np.ones(int(use.sum())), -np.ones(n_fit), np.ones(n_fit), np.ones(n_vars)])
    A = sparse.csr_matrix((a_vals, (a_rows, a_cols)), shape=(n_fit + n_groups, n_vars + 2 * n_fit))
    b = np.concatenate([target[fit_t, fit_x], g])
    w = weight[fit_t, fit_x]
    c = np.concatenate([np.zeros(n_vars), w, w])
    try:
        result = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs", options={"time_limit": time_limit})
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
