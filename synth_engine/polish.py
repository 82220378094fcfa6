"""The default synthesizer's last step: a global polish of the records against every protected count.

The column-by-column fill (fill.py) decides each column once, given the columns before it; it
cannot go back when a later column shows that an earlier choice was poor, and its records end up
with too few protected pairs and triples. The polish revisits every cell of every record:

* a *swap* exchanges the values two records hold in one column (one of them may be "missing"),
  which keeps every 1-count; a *move* sets one cell to another value (or to missing);
* a proposal is accepted only when it lowers Σ_c (w_c·(synthetic_c − protected_c))² over all
  protected combinations c, w_c = 1 / noise sd of c's length: the error in noise units, squared
  so that a big miss at a big count weighs more than many small ones;
* a proposal is refused when it would take the synthetic count of a combination the release
  does not list past its cap, give a record an item B without the item A that B implies, or
  leave a complete column missing (constraints.py);
* the synthetic count of every combination is kept up to date (combination_tables.py), so each
  proposal is scored exactly, whatever the proposals before it did.

Proposals are random (a record, a column, a partner record or a value), drawn from a generator
seeded by the build's, so the polish is deterministic under --seed. The work is a number of
proposals per record, not a time limit, for the same reason. The records are split into PARTS
fixed parts polished side by side on separate threads, each against the counts as the round
began plus its own changes, and the changes are merged between rounds. A part counts each of its
own changes PARTS times, as its estimate of what the other parts do to the same counts: each part
then closes its share of a gap instead of all of it, and the merged counts do not overshoot (nor
pass a cap). The result does not depend on the number of threads.

The loop is compiled with numba: each proposal touches a few dozen combinations, and a Python
loop over tens of millions of proposals would take hours. The compiled code is cached beside
this file (numba's cache=True), so only the first build on a machine pays for the compilation.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
from numba import njit, prange

from data.aggregates import unpack
from synth_engine.combination_tables import (
    build_tables,
    combinations_with,
    merge_unlisted,
    shift,
    shift_with_cost,
)

PARTS = 2  # records are polished in this many parts at once (fixed: the result must not
# depend on the machine's number of cores)
WORST_Z = 2.0  # the pass on the worst pairs takes up those further than this from their count
WORST_TRIES = 30  # ... trying this many swaps per record of a pair's gap
WORST_TOLERANCE = 0.5  # ... and leaves a pair once it is this close (noise sd)


@dataclass
class PolishResult:
    proposals: int
    accepted: int
    error_before: float  # Σ (w·(synthetic − protected))² before and after
    error_after: float

    def as_dict(self) -> dict:
        return dict(vars(self))


@njit(cache=True)
def _other_items(state, record, column, others):
    n = 0
    for j in range(state.shape[1]):
        if j != column and state[record, j] >= 0:
            others[n] = state[record, j]
            n += 1
    return n


@njit(cache=True)
def _count_records(state, ledger, R, base, tables, caps, buffer):
    """Add every record's combinations to the counts; False if the unlisted ones find no room."""
    items = np.empty(state.shape[1], np.int64)
    ucounts = tables[5]
    for record in range(state.shape[0]):
        n_items = 0
        for j in range(state.shape[1]):
            if state[record, j] >= 0:
                items[n_items] = state[record, j]
                n_items += 1
        for i in range(n_items):  # the combinations whose largest item is items[i]
            n = combinations_with(items, i, items[i], R, base, tables, buffer, True, 1.0, caps)
            if n < 0:
                return False
            shift(ledger, ucounts, buffer, n, 1.0)
    return True


@njit(cache=True)
def _breaks_rules(state, record, column, value, rules):
    """True when state[record, column] = value would leave a complete column missing, give the
    record an item without one it needs, or take away an item another of its items needs."""
    _, needs_ptr, needs, needed_ptr, needed, complete, column_of = rules
    if value < 0:
        if complete[column]:
            return True
    else:
        for i in range(needs_ptr[value], needs_ptr[value + 1]):
            if state[record, column_of[needs[i]]] != needs[i]:
                return True
    old = state[record, column]
    if old >= 0:
        for i in range(needed_ptr[old], needed_ptr[old + 1]):
            if state[record, column_of[needed[i]]] == needed[i]:
                return True
    return False


@njit(cache=True)
def _set_cell(state, record, column, value, others, ledger, R, base, tables, rules, step, removed, added):
    """Set state[record, column] = value (-1 = missing) and update the counts by `step`. Returns
    (change of the error, n_removed, n_added), the combinations lost and gained left in `removed`
    and `added` for `_undo_cell`; the change is +inf (and nothing changed) when the new value is
    refused."""
    if _breaks_rules(state, record, column, value, rules):
        return np.inf, 0, 0
    old = state[record, column]
    n_others = _other_items(state, record, column, others)
    n_added = 0
    if value >= 0:
        n_added = combinations_with(others, n_others, value, R, base, tables, added, True, step, rules[0])
        if n_added < 0:
            return np.inf, 0, 0
    n_removed = 0
    if old >= 0:
        n_removed = combinations_with(others, n_others, old, R, base, tables, removed, False, step, rules[0])
    ucounts, ufirsts = tables[5], tables[7]
    cost = shift_with_cost(ledger, ucounts, removed, n_removed, -step, rules[0], ufirsts)
    cost += shift_with_cost(ledger, ucounts, added, n_added, step, rules[0], ufirsts)
    state[record, column] = value
    return cost, n_removed, n_added


@njit(cache=True)
def _undo_cell(state, record, column, old, ledger, ucounts, removed, n_removed, added, n_added, step):
    shift(ledger, ucounts, added, n_added, -step)
    shift(ledger, ucounts, removed, n_removed, step)
    state[record, column] = old


@njit(cache=True)
def _swap(state, record, partner, column, ledger, R, base, tables, rules, step, scratch):
    """Exchange the values of two records in a column if that lowers the error; True if done."""
    others, removed, added, partner_removed, partner_added = scratch
    old = state[record, column]
    new = state[partner, column]
    cost, n_removed, n_added = _set_cell(
        state, record, column, new, others, ledger, R, base, tables, rules, step, removed, added
    )
    if cost == np.inf:
        return False
    partner_cost, p_removed, p_added = _set_cell(
        state, partner, column, old, others, ledger, R, base, tables, rules, step, partner_removed, partner_added
    )
    if cost + partner_cost < 0.0:
        return True
    if partner_cost != np.inf:
        _undo_cell(
            state, partner, column, new, ledger, tables[5], partner_removed, p_removed, partner_added, p_added, step
        )
    _undo_cell(state, record, column, old, ledger, tables[5], removed, n_removed, added, n_added, step)
    return False


@njit(cache=True)
def _scratch(n_columns, buffer_size):
    """Work arrays of one thread: a record's other items, and four combination buffers."""
    return (
        np.empty(n_columns, np.int64),
        np.empty(buffer_size, np.int64),
        np.empty(buffer_size, np.int64),
        np.empty(buffer_size, np.int64),
        np.empty(buffer_size, np.int64),
    )


@njit(cache=True)
def _polish_part(state, part, parts, offsets, ledger, R, base, tables, rules, proposals, swap_share, seed, buffer_size):
    """`proposals` proposals on the records part, part + parts, part + 2·parts ..."""
    np.random.seed(seed)
    n_columns = state.shape[1]
    n_records = (state.shape[0] - part + parts - 1) // parts
    step = float(parts)
    scratch = _scratch(n_columns, buffer_size)
    complete = rules[5]
    accepted = 0
    for _ in range(proposals):
        record = part + parts * np.random.randint(n_records)
        column = np.random.randint(n_columns)
        old = state[record, column]
        if np.random.random() < swap_share:
            partner = part + parts * np.random.randint(n_records)
            if state[partner, column] != old and partner != record:
                accepted += _swap(state, record, partner, column, ledger, R, base, tables, rules, step, scratch)
            continue
        n_values = offsets[column + 1] - offsets[column]
        pick = np.random.randint(n_values + (0 if complete[column] else 1))
        new = offsets[column] + pick if pick < n_values else -1
        if new == old:
            continue
        removed, added = scratch[1], scratch[2]
        cost, n_removed, n_added = _set_cell(
            state, record, column, new, scratch[0], ledger, R, base, tables, rules, step, removed, added
        )
        if cost < 0.0:
            accepted += 1
        elif cost != np.inf:
            _undo_cell(state, record, column, old, ledger, tables[5], removed, n_removed, added, n_added, step)
    return accepted


@njit(cache=True, parallel=True)
def _polish_round(
    state, offsets, ledger, R, base, tables, rules, proposals, swap_share, seeds, buffer_size, part_keys, part_counts
):
    """One round: each part of the records polished on its own thread against the counts as they
    were at the start of the round plus its own changes (counted `parts` times); the changes are
    added up at the end. Which thread runs which part does not matter, so the result is
    deterministic. The parts' unlisted tables are left in part_keys / part_counts to merge."""
    parts = len(seeds)
    changes = np.zeros((parts, ledger.shape[0]))
    accepted = np.zeros(parts, np.int64)
    for part in prange(parts):
        own = ledger.copy()
        part_keys[part] = tables[4]
        part_counts[part] = tables[5]
        fill = tables[6].copy()
        own_tables = (
            tables[0],
            tables[1],
            tables[2],
            tables[3],
            part_keys[part],
            part_counts[part],
            fill,
            tables[7],
            tables[8],
            tables[9],
            tables[10],
        )
        share = proposals // parts + (1 if part < proposals % parts else 0)
        accepted[part] = _polish_part(
            state, part, parts, offsets, own, R, base, own_tables, rules, share, swap_share, seeds[part], buffer_size
        )
        changes[part] = (own[:, 0] - ledger[:, 0]) / parts
    for part in range(parts):
        ledger[:, 0] += changes[part]
    return accepted.sum()


@njit(cache=True)
def _records_holding(state, x, column_x, y, column_y, hold_x, hold_y, out):
    """The records that hold x (or not: hold_x) and y (or not: hold_y), into `out`; how many."""
    n = 0
    for record in range(state.shape[0]):
        if (state[record, column_x] == x) == hold_x and (state[record, column_y] == y) == hold_y:
            out[n] = record
            n += 1
    return n


@njit(cache=True)
def _close_pair(
    state, x, y, row, column_of, ledger, R, base, tables, rules, tries, tolerance, scratch, senders, takers
):
    """Swaps in y's column that bring the pair {x, y}'s synthetic count toward its protected one:
    short, a record with x but not y takes y from a record with y but not x; over, a record with
    both hands y to a record with neither. Each is scored against every count like any swap."""
    over = ledger[row, 0] > ledger[row, 1]
    column_x, column_y = column_of[x], column_of[y]
    n_senders = _records_holding(state, x, column_x, y, column_y, True, over, senders)
    n_takers = _records_holding(state, x, column_x, y, column_y, False, not over, takers)
    accepted = 0
    if n_senders == 0 or n_takers == 0:
        return 0
    for _ in range(tries):
        gap = ledger[row, 0] - ledger[row, 1]
        if abs(gap) <= tolerance or (gap > 0) != over:
            break
        record = senders[np.random.randint(n_senders)]
        partner = takers[np.random.randint(n_takers)]
        if (
            state[record, column_x] != x
            or (state[record, column_y] == y) != over
            or state[partner, column_x] == x
            or (state[partner, column_y] == y) == over
        ):
            continue  # an earlier swap changed one of them
        accepted += _swap(state, record, partner, column_y, ledger, R, base, tables, rules, 1.0, scratch)
    return accepted


@njit(cache=True)
def _worst_pairs_pass(state, pairs, rows, column_of, ledger, R, base, tables, rules, tolerance, seed, buffer_size):
    """`_close_pair` on each pair in turn (pairs[i] at ledger row rows[i]), moving either column."""
    np.random.seed(seed)
    n_columns = state.shape[1]
    scratch = _scratch(n_columns, buffer_size)
    senders = np.empty(state.shape[0], np.int64)
    takers = np.empty(state.shape[0], np.int64)
    accepted = 0
    for i in range(len(rows)):
        for side in range(2):
            x, y = pairs[i, side], pairs[i, 1 - side]
            tries = int(WORST_TRIES * abs(ledger[rows[i], 0] - ledger[rows[i], 1]))
            accepted += _close_pair(
                state,
                x,
                y,
                rows[i],
                column_of,
                ledger,
                R,
                base,
                tables,
                rules,
                tries,
                tolerance,
                scratch,
                senders,
                takers,
            )
    return accepted


def _worst_pairs(work, counts, ledger, rule_arrays, tables, noise_sd: float, seed: int, buffer_size: int) -> int:
    """The pass on the pairs the random proposals leave far from their counts: a pair of two rare
    items (citizenship X with exploitation in X) is met by a random swap once in millions of
    proposals, so it is taken up on purpose, the worst first. Returns the swaps accepted."""
    keys = counts.keys.get(2)
    if keys is None or len(keys) == 0:
        return 0
    first = len(counts.keys.get(1, ()))
    rows = first + np.arange(len(keys))
    z = np.abs(ledger[rows, 0] - ledger[rows, 1]) / noise_sd
    worst = np.flatnonzero(z > WORST_Z)
    worst = worst[np.argsort(-z[worst], kind="stable")]
    tables[10][:] = tables[5]
    return int(
        _worst_pairs_pass(
            work,
            unpack(keys[worst], 2, counts.base),
            rows[worst],
            rule_arrays[-1],
            ledger,
            max(counts.keys),
            counts.base,
            tables,
            rule_arrays,
            WORST_TOLERANCE * noise_sd,
            seed,
            buffer_size,
        )
    )


def _ledger(counts, weights: dict, R: int, n_listed: int) -> np.ndarray:
    """One row per protected combination: synthetic count, protected count, squared weight (and
    padding, so that a row is 32 bytes and the three are read from one cache line)."""
    lengths = range(1, R + 1)
    ledger = np.zeros((n_listed, 4), np.float64)
    ledger[:, 1] = np.concatenate([np.asarray(counts.counts.get(k, ()), np.float64) for k in lengths])
    ledger[:, 2] = np.concatenate([np.asarray(weights[k], np.float64) for k in lengths]) ** 2
    return ledger


def _rule_arrays(rules, offsets: np.ndarray) -> tuple:
    """The constraints' FitRules as the arrays the compiled loop reads."""
    column_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)).astype(np.int64)
    n_items = int(offsets[-1])
    return (
        np.asarray(rules.caps, np.float64),
        *rules.needs(n_items),
        *rules.needed_by(n_items),
        np.asarray(rules.complete, np.bool_),
        column_of,
    )


def polish(
    state: np.ndarray,
    offsets: np.ndarray,
    counts,
    weights: dict,
    rules,
    proposals: int,
    swap_share: float,
    rng: np.random.Generator,
    progress=None,
    chunks: int = 20,
) -> PolishResult:
    """Polish `state` in place: (records x columns) item ids, -1 = missing. `weights[k]` weighs
    the length-k combinations (aligned with counts.keys[k]; 1 / noise sd); `rules` is the
    constraints' FitRules. `progress(n)` gets `chunks` units."""
    R = max(counts.keys) if counts.keys else 1
    tables, n_listed = build_tables(counts, R)
    ledger = _ledger(counts, weights, R, n_listed)
    rule_arrays = _rule_arrays(rules, offsets)
    buffer_size = sum(comb(state.shape[1] - 1, t) for t in range(R)) + 2 * R  # + scratch space
    work = np.asarray(state).astype(np.int64)
    roomy = tables[:9] + (tables[8], tables[10])  # the first count may fill the tables
    if not _count_records(work, ledger, R, counts.base, roomy, np.full(R, np.inf), np.empty(buffer_size, np.int64)):
        raise ValueError("the records hold more unlisted combinations than the polish can track")
    before = _squared_error(ledger)
    accepted = 0
    done = 0
    part_keys = np.empty((PARTS, len(tables[4])), np.int64)
    part_counts = np.empty((PARTS, len(tables[5])))
    offsets = np.asarray(offsets, np.int64)
    for chunk in range(chunks if len(work) > 1 else 0):
        share = proposals * (chunk + 1) // chunks - done
        seeds = rng.integers(2**31 - 1, size=PARTS)
        base_keys = tables[4].copy()
        tables[10][:] = tables[5]
        accepted += int(
            _polish_round(
                work,
                offsets,
                ledger,
                R,
                counts.base,
                tables,
                rule_arrays,
                share,
                float(swap_share),
                seeds,
                buffer_size,
                part_keys,
                part_counts,
            )
        )
        merge_unlisted(tables, base_keys, part_keys, part_counts, PARTS)
        done += share
        if progress is not None:
            progress(1)
    if len(work) > 1 and R >= 2:
        accepted += _worst_pairs(
            work,
            counts,
            ledger,
            rule_arrays,
            tables,
            float(rules.noise_sd[1]),
            int(rng.integers(2**31 - 1)),
            buffer_size,
        )
    if progress is not None and len(work) <= 1:
        progress(chunks)
    state[...] = work
    return PolishResult(int(proposals), accepted, before, _squared_error(ledger))


def _squared_error(ledger) -> float:
    return float(np.sum(ledger[:, 2] * (ledger[:, 0] - ledger[:, 1]) ** 2))
