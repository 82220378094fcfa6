"""The polish's bookkeeping: where each combination a record holds is counted (numba-compiled).

Listed (protected) combinations are found through one open-addressing hash table per length,
keyed by the packed combination key (aggregates.pack), and counted in the ledger (one row per
listed combination: synthetic count, protected count, weight). Unlisted combinations the records
make are counted in a second set of hash tables, one per length, that grows as they appear: a key
and a count per slot. A slot whose count falls to 0 is free for another key (the chains of linear
probing stay intact: the slot changes key, it is never emptied). While the records are polished
in parts, a slot is free only when its count was 0 at the start of the round as well, so that
merging the parts loses no change.

An index into the counts is a listed row (>= 0) or an unlisted slot s coded as -(s + 2); -1 means
"refused": the combination would pass its cap or find no room.

`Tables` bundles the arrays the compiled code reads (a tuple, as numba passes them):
(listed table, listed firsts, listed masks, ledger starts, unlisted keys, unlisted counts,
unlisted fill per length, unlisted firsts, unlisted masks, unlisted insertion limits, unlisted
counts at the start of the round).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_HASH_MULTIPLIER = np.int64(-7046029254386353131)  # odd 64-bit constant (Fibonacci hashing)
REFUSED = -1
MIN_UNLISTED_SLOTS = 1 << 16
MAX_UNLISTED_SLOTS = 1 << 22
OVER_CAP = 1e4  # the error of one unit above an unlisted combination's cap


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
    """The row of `key` in the listed table whose slots start at `first`, or -1."""
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
def find_unlisted(keys, counts, base, fill, first, mask, limit, length, key, insert):
    """The slot of an unlisted `key` (a length-`length` segment starting at `first`); when absent
    and `insert`, a new slot for it (the first free one on its chain), or -1 when the segment
    holds `limit` keys already; when absent and not `insert`, -1."""
    at = _slot(key, mask)
    free = -1
    while True:
        slot = first + at
        found = keys[slot]
        if found == key:
            return slot
        if found == -1:
            break
        if free < 0 and counts[slot] == 0.0 and base[slot] == 0.0:
            free = slot
        at = (at + 1) & mask
    if not insert:
        return -1
    if free >= 0:
        keys[free] = key
        return free
    if fill[length] >= limit[length]:
        return -1
    keys[first + at] = key
    fill[length] += 1
    return first + at


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
def _locate(tables, size, key, adding, step, caps):
    """The counts index of a combination of size + 1 items (see the module's comment)."""
    table, firsts, masks, starts, ukeys, ucounts, ufill, ufirsts, umasks, ulimits, ubase = tables
    row = _find(table, firsts[size], masks[size], key)
    if row >= 0:
        return starts[size] + row
    slot = find_unlisted(ukeys, ucounts, ubase, ufill, ufirsts[size], umasks[size], ulimits, size, key, False)
    if adding:
        held = ucounts[slot] if slot >= 0 else 0.0
        if held + step > caps[size] + 1e-9:
            return REFUSED
        if slot < 0:
            slot = find_unlisted(ukeys, ucounts, ubase, ufill, ufirsts[size], umasks[size], ulimits, size, key, True)
            if slot < 0:
                return REFUSED
    return -(slot + 2)


@njit(cache=True)
def combinations_with(others, n_others, item, R, base, tables, out, adding, step, caps):
    """Write into `out` the counts index of T ∪ {item} for every subset T of others[:n_others]
    (ascending item ids) with |T| < R; returns how many, or -1 when adding one of them is
    refused (the counts held are then unchanged)."""
    n = 0
    subset = out[len(out) - 2 * R : len(out) - R]  # scratch space at the end of `out`
    position = out[len(out) - R :]
    for size in range(min(R - 1, n_others) + 1):
        for i in range(size):
            position[i] = i
        while True:
            for i in range(size):
                subset[i] = others[position[i]]
            index = _locate(tables, size, _key_with(subset, size, item, base), adding, step, caps)
            if index == REFUSED:
                return -1
            out[n] = index
            n += 1
            i = size - 1  # next subset of this size, in lexicographic order
            while i >= 0 and position[i] == n_others - size + i:
                i -= 1
            if i < 0:
                break
            position[i] += 1
            for later in range(i + 1, size):
                position[later] = position[later - 1] + 1
    return n


@njit(cache=True)
def shift_with_cost(ledger, ucounts, indices, n, step, caps, ufirsts):
    """Add `step` to the listed counts; returns the change of Σ weight·(synthetic − protected)²
    plus OVER_CAP per unit an unlisted count stands above its cap (records handed to the polish
    may hold such counts; the polish never makes one)."""
    cost = 0.0
    for i in range(n):
        index = indices[i]
        if index < 0:
            slot = -index - 2
            before = ucounts[slot]
            ucounts[slot] = before + step
            length = 0
            while length + 1 < len(ufirsts) and ufirsts[length + 1] <= slot:
                length += 1
            cost += OVER_CAP * (max(before + step - caps[length], 0.0) - max(before - caps[length], 0.0))
            continue
        row = ledger[index]
        gap = row[0] - row[1]
        row[0] += step
        cost += row[2] * step * (2.0 * gap + step)
    return cost


@njit(cache=True)
def shift(ledger, ucounts, indices, n, step):
    for i in range(n):
        index = indices[i]
        if index < 0:
            ucounts[-index - 2] += step
        else:
            ledger[index, 0] += step


@njit(cache=True)
def merge_unlisted(tables, base_keys, part_keys, part_counts, parts):
    """Add each part's changes of the unlisted counts (scaled by `parts`, see polish.py) to the
    shared tables; the round's starting counts are `tables`' own base."""
    _, _, _, _, ukeys, ucounts, ufill, ufirsts, umasks, _, base_counts = tables
    for part in range(part_keys.shape[0]):
        for length in range(len(ufirsts)):
            for at in range(umasks[length] + 1):
                slot = ufirsts[length] + at
                key = part_keys[part, slot]
                if key == -1:
                    continue
                before = base_counts[slot] if base_keys[slot] == key else 0.0
                change = (part_counts[part, slot] - before) / parts
                if change == 0.0:
                    continue
                target = find_unlisted(
                    ukeys, ucounts, base_counts, ufill, ufirsts[length], umasks[length], umasks, length, key, True
                )
                ucounts[target] += change


def build_tables(counts, R: int):
    """The listed tables (at most half full) and empty unlisted ones, sized from the listed."""
    lengths = range(1, R + 1)
    sizes = [len(counts.keys.get(k, ())) for k in lengths]
    capacities = [1 << max(4, (2 * size).bit_length()) for size in sizes]
    table = np.concatenate(
        [
            _hash_table(np.asarray(counts.keys.get(k, np.zeros(0, np.int64)), np.int64), capacity)
            for k, capacity in zip(lengths, capacities)
        ]
    )
    firsts = np.concatenate([[0], np.cumsum(capacities)[:-1]]).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    unlisted = [min(max(1 << (8 * size).bit_length(), MIN_UNLISTED_SLOTS), MAX_UNLISTED_SLOTS) for size in sizes]
    ufirsts = np.concatenate([[0], np.cumsum(unlisted)[:-1]]).astype(np.int64)
    total = int(sum(unlisted))
    return (
        table,
        firsts,
        np.asarray(capacities, np.int64) - 1,
        starts,
        np.full(total, -1, np.int64),
        np.zeros(total),
        np.zeros(R, np.int64),
        ufirsts,
        np.asarray(unlisted, np.int64) - 1,
        np.asarray(unlisted, np.int64) // 4,
        np.zeros(total),
    ), int(sum(sizes))
