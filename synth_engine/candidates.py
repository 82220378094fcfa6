"""Candidate combinations of the privacy core as packed integer keys: looking keys up, enumerating
each record's combinations that are candidates, and joining the survivors of one length into the
candidates of the next.

With items renumbered 0..s-1, a sorted combination (i_1 < ... < i_k) has the key Σ i_j·s^(k-j),
so the key order is the lexicographic order of the item tuples. Everything is vectorized: Python
loops run over record sizes, index tuples and blocks of records, never over single records.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from data.aggregates import pack

# Work on at most this many (record, combination) cells at once while enumerating records'
# combinations; bounds the peak memory of the stage whatever the input.
_BLOCK_CELLS = 1 << 21
# Membership is looked up in a dense table when the key space is at most this large.
_DENSE_LOOKUP_LIMIT = 1 << 24


class KeyLookup:
    """Position of keys in a sorted key array (or -1): a dense table when the key space is
    small, binary search otherwise."""

    def __init__(self, keys: np.ndarray, key_space: int):
        self.keys = keys
        self.table = None
        if key_space <= _DENSE_LOOKUP_LIMIT:
            self.table = np.full(key_space, -1, dtype=np.int32 if len(keys) < 2**31 else np.int64)
            self.table[keys] = np.arange(len(keys))

    def find(self, queries: np.ndarray) -> np.ndarray:
        if self.table is not None:
            return self.table[queries]
        if len(self.keys) == 0:
            return np.full(queries.shape, -1, dtype=np.int64)
        pos = np.searchsorted(self.keys, queries)
        np.minimum(pos, len(self.keys) - 1, out=pos)
        return np.where(self.keys[pos] == queries, pos, -1)


@cache
def _index_tuples(size: int, length: int) -> np.ndarray:
    """All sorted `length`-tuples of positions 0..size-1, as a (C(size, length), length) array."""
    return np.array(list(itertools.combinations(range(size), length)), dtype=np.intp).reshape(-1, length)


class RecordItems:
    """Each record's items (local ids, ascending), packed to the left and grouped by how many
    items the record has: {size: (record numbers, (n_size, size) items)}."""

    def __init__(self, local: np.ndarray):
        present = local >= 0
        sizes = present.sum(axis=1)
        packed = np.sort(np.where(present, local, np.iinfo(local.dtype).max), axis=1)
        order = np.argsort(sizes, kind="stable")
        bounds = np.r_[0, np.cumsum(np.bincount(sizes, minlength=local.shape[1] + 1))]
        self.groups = {}
        for size in range(1, local.shape[1] + 1):
            rows = order[bounds[size] : bounds[size + 1]]
            if len(rows):
                self.groups[size] = (rows, packed[rows, :size])

    def candidate_pairs(self, length: int, lookup: KeyLookup, base: int) -> tuple[np.ndarray, np.ndarray]:
        """(record, candidate index) for every k-combination of every record that is a candidate."""
        rows_out, combos_out = [], []
        powers = base ** np.arange(length - 1, -1, -1, dtype=np.int64)
        for size, (rows, items) in self.groups.items():
            if size < length:
                continue
            tuples = _index_tuples(size, length)
            block = max(1, _BLOCK_CELLS // len(tuples))
            for start in range(0, len(rows), block):
                chunk = items[start : start + block]
                keys = np.zeros((len(chunk), len(tuples)), dtype=np.int64)
                for j in range(length):
                    keys += chunk[:, tuples[:, j]].astype(np.int64) * powers[j]
                found = lookup.find(keys)
                hit = found >= 0
                record, _ = np.nonzero(hit)
                rows_out.append(rows[start : start + block][record].astype(np.int32))
                combos_out.append(found[hit].astype(np.int32))
        if not rows_out:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return np.concatenate(rows_out), np.concatenate(combos_out)


def next_candidates(
    keys: np.ndarray, items: np.ndarray, base: int, columns: np.ndarray, lookup: KeyLookup
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates of length k from the surviving (k-1)-combinations (keys sorted, items (n, k-1)):
    two survivors sharing their first k-2 items join into a k-combination when their last items
    are of different columns, and the join stays if every other (k-1)-subset survived too."""
    n, width = items.shape
    if n < 2:
        return np.zeros(0, np.int64), np.zeros((0, width + 1), items.dtype)
    prefix = keys // base
    starts = np.flatnonzero(np.r_[True, prefix[1:] != prefix[:-1]])
    ends = np.r_[starts[1:], n]
    partners = np.repeat(ends, ends - starts) - np.arange(n) - 1
    total = int(partners.sum())
    first = np.repeat(np.arange(n), partners)
    offset = np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners)
    second = first + 1 + offset
    last_first, last_second = items[first, -1], items[second, -1]
    ok = columns[last_first] != columns[last_second]
    first, last_second = first[ok], last_second[ok]
    new_items = np.column_stack([items[first], last_second])
    new_keys = keys[first] * base + last_second
    for drop in range(width - 1):  # the subsets without one of the shared first k-2 items
        sub = np.delete(new_items, drop, axis=1)
        keep = lookup.find(pack(sub, base)) >= 0
        new_items, new_keys = new_items[keep], new_keys[keep]
    return new_keys, new_items


def first_pairs(base: int, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidates of length 2: every pair of surviving values of different columns."""
    first, second = np.triu_indices(base, 1)
    ok = columns[first] != columns[second]
    items = np.column_stack([first[ok], second[ok]])
    return first[ok].astype(np.int64) * base + second[ok], items
