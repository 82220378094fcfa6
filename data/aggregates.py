"""Protected aggregates: the release's differentially private counts of short combinations,
and Synthetic Data Showcase's aggregates file format (read and write).

Combinations of length k are held as an (n_k, k) array of item ids (see `ItemSpace`), each row
sorted ascending, with a parallel array of counts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from data.dataset import InputError, ItemSpace

AGGREGATES_HEADER = ("selections", "protected_count")
RECORD_COUNT_KEY = "record_count"


def pack(combos: np.ndarray, base: int) -> np.ndarray:
    """(n, k) ascending item ids -> (n,) int64 keys."""
    combos = np.asarray(combos, dtype=np.int64)
    keys = np.zeros(combos.shape[0], dtype=np.int64)
    for j in range(combos.shape[1]):
        keys = keys * base + combos[:, j]
    return keys


def unpack(keys: np.ndarray, length: int, base: int) -> np.ndarray:
    """(n,) int64 keys -> (n, length) ascending item ids."""
    out = np.empty((len(keys), length), dtype=np.int64)
    rest = np.asarray(keys, dtype=np.int64).copy()
    for j in range(length - 1, -1, -1):
        rest, out[:, j] = np.divmod(rest, base)
    return out


@dataclass(frozen=True)
class LengthParameters:
    """What the privacy core used at one combination length."""

    length: int
    sigma: float  # σ_k of the budget split
    sensitivity: int  # Δ_k, the allowed contributions per record
    noise_sd: float  # σ_k·√Δ_k, the standard deviation of the Gaussian noise
    threshold: float  # noisy counts at or below this were dropped


@dataclass
class ProtectedAggregates:
    items: ItemSpace
    record_count: int  # the protected (noisy) number of records
    combos: dict[int, np.ndarray]  # length -> (n, length) sorted item ids
    counts: dict[int, np.ndarray]  # length -> (n,) protected counts, all > 0
    lengths: list[LengthParameters] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)  # ε, δ, ρ, modes ... (all public)

    @property
    def reporting_length(self) -> int:
        return max(self.combos) if self.combos else 0

    def keys(self, length: int) -> list[str]:
        return [self.items.key(row) for row in self.combos[length]]

    def as_dict(self) -> dict[str, int]:
        """Canonical key -> protected count, every length."""
        out = {}
        for k in sorted(self.combos):
            out.update(zip(self.keys(k), self.counts[k].tolist()))
        return out

    def total(self) -> int:
        return int(sum(len(c) for c in self.counts.values()))


def write_aggregates_file(aggregates: ProtectedAggregates, path: str | os.PathLike) -> None:
    """SDS's file: header, the record count, then combinations by length and count descending."""

    def rows():
        for k in sorted(aggregates.combos):
            keys = aggregates.keys(k)
            counts = aggregates.counts[k].tolist()
            yield sorted(zip(keys, counts), key=lambda kc: (-kc[1], kc[0]))

    write_aggregates_rows(path, aggregates.record_count, rows())


def aggregates_text(record_count: int, batches) -> Iterator[str]:
    """SDS's file as text chunks: the header, the record count, then one chunk per batch of
    (key, count) rows, already in file order."""
    yield "\t".join(AGGREGATES_HEADER) + "\n" + f"{RECORD_COUNT_KEY}\t{record_count}\n"
    for batch in batches:
        yield "".join(f"{key}\t{int(count)}\n" for key, count in batch)


def write_aggregates_rows(path: str | os.PathLike, record_count: int, batches) -> None:
    """Write (key, count) batches, already in file order, under the header; atomically."""
    write_text_atomically(path, aggregates_text(record_count, batches))


def write_text_atomically(path: str | os.PathLike, chunks) -> None:
    """Write the text chunks to a temporary file beside `path`, then rename it over `path`: a
    reader sees the old file or the whole new one, and a failure leaves no temporary file."""
    tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(chunks)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class AggregatesFile:
    """An aggregates file as parsed, before it is tied to a codebook."""

    record_count: int
    rows: list[tuple[list[tuple[str, str]], int, int]]  # [(attribute, value) ...], count, line number

    def values_by_attribute(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for items, _, _ in self.rows:
            for attribute, value in items:
                out.setdefault(attribute, set()).add(value)
        return out


def parse_aggregates_file(path: str | os.PathLike) -> AggregatesFile:
    """Parse an SDS aggregates file; a line that does not parse is named by its number."""
    from data.dataset import read_text

    text = read_text(path)
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split("\t")
    if tuple(h.strip() for h in header) != AGGREGATES_HEADER:
        raise InputError(f"{path}: line 1 must be 'selections<TAB>protected_count', found {lines[0][:60]!r}")
    record_count = None
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].strip().lstrip("-").isdigit():
            raise InputError(f"{path}: line {number} does not parse (expected 'key<TAB>count'): {line[:80]!r}")
        key, count = parts[0].strip(), int(parts[1])
        if count < 0:
            raise InputError(f"{path}: line {number} has a negative count")
        if key == RECORD_COUNT_KEY:
            record_count = count
            continue
        items = []
        for text_item in key.split(";"):
            attribute, sep, value = text_item.partition(":")
            if not sep or not attribute or not value:
                raise InputError(f"{path}: line {number} has an item that is not 'attribute:value': {text_item[:60]!r}")
            items.append((attribute, value))
        if len({a for a, _ in items}) != len(items):
            raise InputError(f"{path}: line {number} names one attribute twice")
        rows.append((items, count, number))
    if record_count is None:
        raise InputError(f"{path}: no '{RECORD_COUNT_KEY}' line")
    return AggregatesFile(record_count, rows)


def aggregates_from_file(parsed: AggregatesFile, items: ItemSpace, path: str = "") -> ProtectedAggregates:
    """Tie a parsed file to a codebook; an unknown attribute or value is an error naming its line."""
    names = set(items.codebook.names)
    by_length: dict[int, tuple[list, list]] = {}
    for pairs, count, line in parsed.rows:
        ids = []
        for attribute, value in pairs:
            if attribute not in names:
                raise InputError(f"{path}: line {line} names unknown attribute {attribute!r}")
            item = items.item_of_text(f"{attribute}:{value}")
            if item is None:
                raise InputError(f"{path}: line {line} names unknown value {attribute}:{value}")
            ids.append(item)
        combos, counts = by_length.setdefault(len(ids), ([], []))
        combos.append(sorted(ids))
        counts.append(count)
    return ProtectedAggregates(
        items=items,
        record_count=parsed.record_count,
        combos={k: np.array(c, dtype=np.int32).reshape(-1, k) for k, (c, _) in sorted(by_length.items())},
        counts={k: np.array(n, dtype=np.int64) for k, (_, n) in sorted(by_length.items())},
    )
