"""The column fill's integer repair: records of a group move between outcomes, or a value moves
between groups, while that lowers the column's weighted error; then each value's 1-count is
brought to its protected count where records allow."""

from __future__ import annotations

import numpy as np


def expand_rows(B, groups):
    """(index into `groups`, row) for every row T of every listed group (B's CSR rows)."""
    indptr, indices = B.indptr, B.indices
    k = np.diff(indptr)[groups]
    owner = np.repeat(np.arange(len(groups)), k)
    start = np.repeat(indptr[groups], k)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    return owner, indices[start + offset]


def repair_column(B, counts, target, weight, fit, forbidden, settings, rng) -> int:
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
    up = w * np.where(error >= 0, 1.0, -1.0)  # change of the weighted error per +1
    down = w * np.where(error <= 0, 1.0, -1.0)  # per -1
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
        if new_objective > objective + 1e-12:  # congestion overshot: try again, strictly
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


def meet_single_counts(B, counts, target, weight, fit, forbidden) -> None:
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
    up[0], down[0] = 0.0, 0.0  # the 1-counts themselves are what is fixed here
    add_cost = B @ up
    add_cost[forbidden] = np.inf
    remove_cost = B @ down
    gap = np.rint(error[0, :V]).astype(np.int64)
    gap[~fit[0, :V]] = 0
    for x in np.flatnonzero(gap > 0):  # too many records hold x: drop it where cheapest
        holders = np.flatnonzero(counts[:, x] > 0)
        order = holders[np.argsort(remove_cost[holders, x], kind="stable")]
        take = np.minimum(counts[order, x], np.maximum(gap[x] - (np.cumsum(counts[order, x]) - counts[order, x]), 0))
        counts[order, x] -= take
        counts[order, V] += take
    for x in np.flatnonzero(gap < 0):  # too few: give it to missing records
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
    return (
        renumber[part_move[part_idx]],
        part_group[part_idx],
        part_out[part_idx],
        part_sign[part_idx],
        units[best],
        gains[best],
    )


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
    return (
        np.concatenate([idx, idx]),
        np.concatenate([movers, movers]),
        np.concatenate([v[movers], u[movers]]),
        np.concatenate([np.ones(n), -np.ones(n)]),
        counts[movers, u[movers]].astype(np.float64),
        gain[movers],
    )


def _relocations(add_gain, remove_gain, up_empty, down_empty, counts, V):
    """Value v leaves one record of group G1 (which becomes missing) for a missing record of
    group G2; scored without the empty row T = ∅, whose count (the 1-count of v) does not change."""
    give = remove_gain[:, :V] - down_empty[None, :V]
    receive = add_gain[:, :V] - up_empty[None, :V]
    d_group, d_value = np.nonzero((counts[:, :V] > 0) & np.isfinite(give))
    t_group, t_value = np.nonzero((counts[:, V:] > 0) & np.isfinite(receive))
    g1, g2, value, gain = _pair_up(
        d_group, d_value, give[d_group, d_value], t_group, t_value, receive[t_group, t_value]
    )
    keep = (gain < -1e-12) & (g1 != g2)
    g1, g2, value, gain = g1[keep], g2[keep], value[keep], gain[keep]
    if len(g1) == 0:
        return None
    n = len(g1)
    idx = np.arange(n)
    missing = np.full(n, V)
    return (
        np.concatenate([idx, idx, idx, idx]),
        np.concatenate([g1, g1, g2, g2]),
        np.concatenate([value, missing, value, missing]),
        np.concatenate([-np.ones(n), np.ones(n), np.ones(n), -np.ones(n)]),
        np.ones(n),
        gain,
    )


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
    owner, t_rows = expand_rows(B, part_group)
    starts = np.concatenate([[0], np.cumsum(np.diff(B.indptr)[part_group])[:-1]])
    cells = t_rows * V1 + part_out[owner]
    cell_err = error.ravel()[cells]
    helps = fit.ravel()[cells] & (cell_err * part_sign[owner] < 0)
    if relocation:  # the two halves share the empty row (the 1-count does not change)
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
