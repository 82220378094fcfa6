"""The default synthesizer's last step: a global polish of the records against every protected count.

The column-by-column fill (synthesize.py) decides each column once, given the columns before it;
it cannot go back when a later column shows that an earlier choice was poor, and its records end
up with too few protected pairs and triples. The polish revisits every cell of every record:

* a *swap* exchanges the values two records hold in one column (one of them may be "missing"),
  which keeps every 1-count; a *move* sets one cell to another value (or to missing);
* a proposal is accepted only when it lowers the weighted error Σ_c w_c·|synthetic_c − protected_c|
  over all protected combinations c (the same weights as the column fill), and never when it
  would give a record a combination of length <= R that the aggregates lack, so the polish keeps
  the synthesizer's 0 % fabrication;
* the synthetic count of every protected combination is kept up to date, so each proposal is
  scored exactly, whatever the proposals before it did.

Proposals are random (a record, a column, a partner record or a value), drawn from a generator
seeded by the build's, so the polish is deterministic under --seed. The work is a number of
proposals per record, not a time limit, for the same reason. The records are split into PARTS
fixed parts polished side by side on separate threads, each against the counts as the round
began plus its own changes, and the changes are merged between rounds: a part does not see the
other's changes until the next round (a small cost in accuracy for twice the proposals on two
cores), and the result does not depend on the number of threads.

The loop is compiled with numba: each proposal touches a few dozen combinations, and a Python
loop over tens of millions of proposals would take hours. Combinations are found through one
open-addressing hash table per length, keyed by the packed combination key (aggregates.pack).
The compiled code is cached beside this file (numba's cache=True), so only the first build on a
machine pays for the compilation (about 15 s).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
from numba import njit, prange

_HASH_MULTIPLIER = np.int64(-7046029254386353131)    # odd 64-bit constant (Fibonacci hashing)
PARTS = 2       # records are polished in this many parts at once (fixed: the result must not
                # depend on the machine's number of cores)


@dataclass
class PolishResult:
    proposals: int
    accepted: int
    error_before: float          # the weighted error before and after
    error_after: float

    def as_dict(self) -> dict:
        return dict(vars(self))


@njit(cache=True)
def _slot(key, mask):
    return ((key * _HASH_MULTIPLIER) ^ (key >> 29)) & mask


@njit(cache=True)
def _hash_table(keys, capacity):
    """Open addressing with linear probing; slot i holds (key, row) at [2i, 2i + 1], so a probe
    reads one cache line."""
    table = np.full(2 * capacity, -1, np.int64)
    mask = capacity - 1
    for row in range(len(keys)):
        at = _slot(keys[row], mask)
        while table[2 * at] != -1:
            at = (at + 1) & mask
        table[2 * at] = keys[row]
        table[2 * at + 1] = row
    return table


@njit(cache=True)
def _find(table, first, mask, key):
    """The row of `key` in the table whose slots start at `first` (one table per length, end to
    end in `table`), or -1."""
    at = _slot(key, mask)
    while True:
        slot = 2 * (first + at)
        found = table[slot]
        if found == key:
            return table[slot + 1]
        if found == -1:
            return -1
        at = (at + 1) & mask


@njit(cache=True)
def _key_with(subset, size, item, base):
    """The packed key of subset[:size] ∪ {item} (subset ascending, item not in it)."""
    key = np.int64(0)
    placed = False
    for i in range(size):
        if not placed and item < subset[i]:
            key = key * base + item
            placed = True
        key = key * base + subset[i]
    if not placed:
        key = key * base + item
    return key


@njit(cache=True)
def _combinations_with(others, n_others, item, R, base, table, firsts, masks, starts, out):
    """Write into `out` the index of T ∪ {item} for every subset T of others[:n_others] (ascending
    item ids) with |T| < R; returns how many, or -1 when one of them is not protected."""
    n = 0
    subset = out[len(out) - 2 * R:len(out) - R]           # scratch space at the end of `out`
    position = out[len(out) - R:]
    for size in range(min(R - 1, n_others) + 1):
        for i in range(size):
            position[i] = i
        while True:
            for i in range(size):
                subset[i] = others[position[i]]
            row = _find(table, firsts[size], masks[size], _key_with(subset, size, item, base))
            if row < 0:
                return -1
            out[n] = starts[size] + row
            n += 1
            i = size - 1                      # next subset of this size, in lexicographic order
            while i >= 0 and position[i] == n_others - size + i:
                i -= 1
            if i < 0:
                break
            position[i] += 1
            for later in range(i + 1, size):
                position[later] = position[later - 1] + 1
    return n


@njit(cache=True)
def _shift_with_cost(ledger, indices, n, step):
    """Add `step` to the listed synthetic counts; returns the change of the weighted error."""
    cost = 0.0
    for i in range(n):
        row = ledger[indices[i]]
        before = row[0]
        row[0] = before + step
        cost += row[2] * (abs(before + step - row[1]) - abs(before - row[1]))
    return cost


@njit(cache=True)
def _shift(ledger, indices, n, step):
    for i in range(n):
        ledger[indices[i], 0] += step


@njit(cache=True)
def _other_items(state, record, column, others):
    n = 0
    for j in range(state.shape[1]):
        if j != column and state[record, j] >= 0:
            others[n] = state[record, j]
            n += 1
    return n


@njit(cache=True)
def _count_records(state, ledger, R, base, table, firsts, masks, starts, buffer):
    """Add every record's protected combinations to the ledger; False if a record holds a
    combination the aggregates lack."""
    items = np.empty(state.shape[1], np.int64)
    for record in range(state.shape[0]):
        n_items = 0
        for j in range(state.shape[1]):
            if state[record, j] >= 0:
                items[n_items] = state[record, j]
                n_items += 1
        for i in range(n_items):          # the combinations whose largest item is items[i]
            n = _combinations_with(items, i, items[i], R, base, table, firsts, masks, starts, buffer)
            if n < 0:
                return False
            _shift(ledger, buffer, n, 1.0)
    return True


@njit(cache=True)
def _set_cell(state, record, column, value, others, ledger, R, base,
              table, firsts, masks, starts, removed, added):
    """Set state[record, column] = value (-1 = missing) and update the counts. Returns (change of
    the weighted error, n_removed, n_added), the combinations lost and gained left in `removed`
    and `added` for `_undo_cell`; the change is +inf (and nothing changed) when the new value
    would make a combination the aggregates lack."""
    old = state[record, column]
    n_others = _other_items(state, record, column, others)
    n_added = 0
    if value >= 0:
        n_added = _combinations_with(others, n_others, value, R, base, table, firsts, masks,
                                     starts, added)
        if n_added < 0:
            return np.inf, 0, 0
    n_removed = 0
    if old >= 0:
        n_removed = _combinations_with(others, n_others, old, R, base, table, firsts, masks,
                                       starts, removed)
    cost = _shift_with_cost(ledger, removed, n_removed, -1.0)
    cost += _shift_with_cost(ledger, added, n_added, 1.0)
    state[record, column] = value
    return cost, n_removed, n_added


@njit(cache=True)
def _undo_cell(state, record, column, old, ledger, removed, n_removed, added, n_added):
    _shift(ledger, added, n_added, -1.0)
    _shift(ledger, removed, n_removed, 1.0)
    state[record, column] = old


@njit(cache=True)
def _polish_part(state, part, parts, offsets, ledger, R, base, table, firsts,
                 masks, starts, proposals, swap_share, seed, buffer_size):
    """`proposals` proposals on the records part, part + parts, part + 2·parts ..."""
    np.random.seed(seed)
    n_columns = state.shape[1]
    n_records = (state.shape[0] - part + parts - 1) // parts
    others = np.empty(n_columns, np.int64)
    removed = np.empty(buffer_size, np.int64)
    added = np.empty(buffer_size, np.int64)
    partner_removed = np.empty(buffer_size, np.int64)
    partner_added = np.empty(buffer_size, np.int64)
    accepted = 0
    for _ in range(proposals):
        record = part + parts * np.random.randint(n_records)
        column = np.random.randint(n_columns)
        old = state[record, column]
        if np.random.random() < swap_share:
            partner = part + parts * np.random.randint(n_records)
            new = state[partner, column]
            if new == old or partner == record:
                continue
            cost, n_removed, n_added = _set_cell(state, record, column, new, others, ledger,
                                                 R, base, table, firsts, masks, starts,
                                                 removed, added)
            if cost == np.inf:
                continue
            partner_cost, p_removed, p_added = _set_cell(state, partner, column, old, others, ledger,
                                                         R, base, table, firsts,
                                                         masks, starts, partner_removed, partner_added)
            if cost + partner_cost < 0.0:
                accepted += 1
                continue
            if partner_cost != np.inf:
                _undo_cell(state, partner, column, new, ledger, partner_removed, p_removed,
                           partner_added, p_added)
            _undo_cell(state, record, column, old, ledger, removed, n_removed, added, n_added)
        else:
            n_values = offsets[column + 1] - offsets[column]
            pick = np.random.randint(n_values + 1)
            new = offsets[column] + pick if pick < n_values else -1
            if new == old:
                continue
            cost, n_removed, n_added = _set_cell(state, record, column, new, others, ledger,
                                                 R, base, table, firsts, masks, starts,
                                                 removed, added)
            if cost < 0.0:
                accepted += 1
            elif cost != np.inf:
                _undo_cell(state, record, column, old, ledger, removed, n_removed, added, n_added)
    return accepted


@njit(cache=True, parallel=True)
def _polish_round(state, offsets, ledger, R, base, table, firsts, masks,
                  starts, proposals, swap_share, seeds, buffer_size):
    """One round: each part of the records polished on its own thread against the counts as they
    were at the start of the round plus its own changes; the changes are added up at the end.
    Which thread runs which part does not matter, so the result is deterministic."""
    parts = len(seeds)
    changes = np.zeros((parts, ledger.shape[0]))
    accepted = np.zeros(parts, np.int64)
    for part in prange(parts):
        own = ledger.copy()
        share = proposals // parts + (1 if part < proposals % parts else 0)
        accepted[part] = _polish_part(state, part, parts, offsets, own, R, base,
                                      table, firsts, masks, starts, share, swap_share, seeds[part],
                                      buffer_size)
        changes[part] = own[:, 0] - ledger[:, 0]
    for part in range(parts):
        ledger[:, 0] += changes[part]
    return accepted.sum()


def polish(state: np.ndarray, offsets: np.ndarray, counts, weights: dict, proposals: int,
           swap_share: float, rng: np.random.Generator, progress=None, chunks: int = 20) -> PolishResult:
    """Polish `state` in place: (records x columns) item ids, -1 = missing, holding no combination
    that `counts` (the protected aggregates, aggregate_counts) lacks. `weights[k]` weighs the
    length-k combinations (aligned with counts.keys[k]). `progress(n)` gets `chunks` units."""
    R = max(counts.keys) if counts.keys else 1
    lengths = range(1, R + 1)
    sizes = [len(counts.keys.get(k, ())) for k in lengths]
    capacities = [1 << max(4, (2 * size).bit_length()) for size in sizes]     # at most half full
    table = np.concatenate([_hash_table(np.asarray(counts.keys.get(k, np.zeros(0, np.int64)), np.int64), capacity)
                            for k, capacity in zip(lengths, capacities)])
    firsts = np.concatenate([[0], np.cumsum(capacities)[:-1]]).astype(np.int64)
    masks = np.asarray(capacities, np.int64) - 1
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    # one row per protected combination: synthetic count, protected count, weight (and padding,
    # so that a row is 32 bytes and the three are read from one cache line)
    ledger = np.zeros((int(sum(sizes)), 4), np.float64)
    ledger[:, 1] = np.concatenate([np.asarray(counts.counts.get(k, ()), np.float64) for k in lengths])
    ledger[:, 2] = np.concatenate([np.asarray(weights[k], np.float64) for k in lengths])
    n_columns = state.shape[1]
    buffer_size = sum(comb(n_columns - 1, t) for t in range(R)) + 2 * R   # + scratch space
    work = np.asarray(state).astype(np.int64)
    if not _count_records(work, ledger, R, counts.base, table, firsts, masks, starts,
                          np.empty(buffer_size, np.int64)):
        raise ValueError("the records to polish hold a combination the aggregates lack")
    before = _weighted_error(ledger)
    accepted = 0
    done = 0
    for chunk in range(chunks if len(work) > 1 else 0):
        share = proposals * (chunk + 1) // chunks - done
        seeds = rng.integers(2**31 - 1, size=PARTS)
        accepted += int(_polish_round(work, np.asarray(offsets, np.int64), ledger, R,
                                      counts.base, table, firsts, masks, starts, share,
                                      float(swap_share), seeds, buffer_size))
        done += share
        if progress is not None:
            progress(1)
    if progress is not None and len(work) <= 1:
        progress(chunks)
    state[...] = work
    after = _weighted_error(ledger)
    return PolishResult(int(proposals), accepted, before, after)


def _weighted_error(ledger) -> float:
    return float(np.sum(ledger[:, 2] * np.abs(ledger[:, 0] - ledger[:, 1])))
