"""The evaluate stage: how well a set of records agrees with a set of combination counts.

Counting
--------
A combination of length k is identified by a single int64 *key*: its item ids (see `ItemSpace`),
ascending, written as the digits of a base-`n_items` number. `count_combinations` counts every
combination of length 1..R of a code matrix without a Python loop over records: it walks the
column tuples (j1 < j2 < ...), keeps only the rows that have all of them, and counts the value
tuples of those rows with `numpy.bincount`. `combination_incidence` walks the same way but
returns, for every row, the aggregate combinations it contains (a sparse record x combination
matrix, used by the synthesizer's fit).

Metrics (Synthetic Data Showcase's definitions, see sds-method.md "Evaluation")
--------------------------------------------------------------------------------
An *original* set of counts S is compared with a *target* set T, both over lengths 1..R:

* suppressed % = |S \\ T| / |S| · 100 and fabricated % = |T \\ S| / |S| · 100, per length and overall;
  `fabricated_of_target_pct` divides by |T| instead (the share of the target's distinct
  combinations that the original does not have);
* mean absolute error of the counts over S ∩ T, per length;
* mean relative error over the combinations of S whose original count is ≥ 10, a combination
  absent from T counting as 0: mean |t − s| / s (SDS calls it the mean proportional error);
* preservation by count bucket: the combinations of S with s ≥ 10 fall in buckets
  [10·2^j, 10·2^(j+1)) of their original count; per bucket the number of combinations, the mean
  preservation min(t / s, 1) and the mean proportional error |t − s| / s, per length and overall;
* record expansion % = (N_target / N_original − 1) · 100.

The public quality stored with a release compares the synthetic records with the protected
aggregates only ('synthetic_vs_protected'). Comparisons with the sensitive records themselves are
not differentially private and only ever go to the data owner's private report.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from data.aggregates import ProtectedAggregates, pack, write_text_atomically
from data.dataset import ItemSpace

RELATIVE_ERROR_FLOOR = 10          # relative errors are taken over original counts >= this
BUCKET_START = 10                  # first preservation bucket [10, 20), then [20, 40) ...
PUBLIC_COMPARISON = "synthetic_vs_protected"


# --- keys -------------------------------------------------------------------------------------

def key_base(items: ItemSpace, max_length: int) -> int:
    """The base of the packed keys; checks that a key of `max_length` items fits in int64."""
    base = max(int(items.n_items), 2)
    if max_length * math.log2(base) >= 63:
        raise ValueError(f"{items.n_items} items are too many for combinations of length {max_length}")
    return base


@dataclass
class CombinationCounts:
    """Counts of combinations by length: keys[k] ascending int64 keys, counts[k] their counts."""
    base: int
    keys: dict[int, np.ndarray]
    counts: dict[int, np.ndarray]
    n_records: int

    @property
    def lengths(self) -> list[int]:
        return sorted(self.keys)

    def total(self) -> int:
        return int(sum(len(k) for k in self.keys.values()))

    def lookup(self, length: int, keys: np.ndarray) -> np.ndarray:
        """Counts of the given keys (0 where absent)."""
        own = self.keys.get(length)
        if own is None or len(own) == 0:
            return np.zeros(len(keys), dtype=np.int64)
        at = np.searchsorted(own, keys)
        at = np.minimum(at, len(own) - 1)
        hit = own[at] == keys
        return np.where(hit, self.counts[length][at], 0)


def aggregate_counts(aggregates: ProtectedAggregates) -> CombinationCounts:
    """The protected aggregates as sorted keys and counts."""
    length = max(aggregates.combos) if aggregates.combos else 1
    base = key_base(aggregates.items, length)
    keys, counts = {}, {}
    for k in sorted(aggregates.combos):
        packed = pack(aggregates.combos[k], base)
        order = np.argsort(packed, kind="stable")
        keys[k] = packed[order]
        counts[k] = np.asarray(aggregates.counts[k], dtype=np.int64)[order]
    return CombinationCounts(base, keys, counts, int(aggregates.record_count))


# --- walking column tuples --------------------------------------------------------------------

def _walk(codes: np.ndarray, items: ItemSpace, max_length: int, base: int):
    """Yield (length, rows, keys, local, size) for every column tuple of up to `max_length`
    columns that some row has in full: `rows` are those rows, `keys` the packed keys of their
    value tuples, `local` a dense index of the value tuple within the column tuple (0..size-1)."""
    codes = np.asarray(codes)
    n, m = codes.shape
    present = codes > 0
    sizes = np.diff(items.offsets)
    offsets = items.offsets[:-1]
    column_rows = [np.flatnonzero(present[:, j]) for j in range(m)]

    def extend(last_col, rows, keys, local, size, depth):
        for j in range(last_col + 1, m):
            if depth == 1:
                sub = column_rows[j]
                if len(sub) == 0:
                    continue
                sub_keys = np.zeros(len(sub), dtype=np.int64)
                sub_local = np.zeros(len(sub), dtype=np.int64)
            else:
                keep = present[rows, j]
                if not keep.any():
                    continue
                sub = rows[keep]
                sub_keys = keys[keep]
                sub_local = local[keep]
            value = codes[sub, j].astype(np.int64) - 1
            sub_keys = sub_keys * base + (offsets[j] + value)
            sub_local = sub_local * sizes[j] + value
            sub_size = size * int(sizes[j])
            yield depth, sub, sub_keys, sub_local, sub_size
            if depth < max_length:
                yield from extend(j, sub, sub_keys, sub_local, sub_size, depth + 1)

    yield from extend(-1, None, None, None, 1, 1)


def count_combinations(codes: np.ndarray, items: ItemSpace, max_length: int,
                       weights: np.ndarray | None = None) -> CombinationCounts:
    """Count every combination of length 1..max_length in the rows of `codes` (each row counted
    `weights[row]` times when weights are given)."""
    base = key_base(items, max_length)
    parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in range(1, max_length + 1)}
    w = None if weights is None else np.asarray(weights, dtype=np.int64)
    for depth, rows, keys, local, size in _walk(codes, items, max_length, base):
        if size <= 4 * len(rows) + 4096:
            tally = np.bincount(local, weights=None if w is None else w[rows], minlength=size)
            nz = np.flatnonzero(tally)
            if len(nz) == 0:
                continue
            first = np.zeros(size, dtype=np.int64)
            first[local] = keys   # any row of a value tuple carries its key
            parts[depth].append((first[nz], np.rint(tally[nz]).astype(np.int64)))
        else:
            uniq, inverse = np.unique(keys, return_inverse=True)
            tally = np.bincount(inverse, weights=None if w is None else w[rows], minlength=len(uniq))
            parts[depth].append((uniq, np.rint(tally).astype(np.int64)))
    out_keys, out_counts = {}, {}
    for k, pieces in parts.items():
        if pieces:
            keys = np.concatenate([p[0] for p in pieces])
            counts = np.concatenate([p[1] for p in pieces])
            keep = counts > 0
            keys, counts = keys[keep], counts[keep]
            order = np.argsort(keys, kind="stable")
            out_keys[k], out_counts[k] = keys[order], counts[order]
        else:
            out_keys[k], out_counts[k] = np.zeros(0, np.int64), np.zeros(0, np.int64)
    n = int(codes.shape[0]) if w is None else int(w.sum())
    return CombinationCounts(base, out_keys, out_counts, n)


def combination_incidence(codes: np.ndarray, items: ItemSpace, reference: CombinationCounts,
                          max_length: int):
    """The combinations of `reference` that each row of `codes` contains.

    Returns (matrix, outside): `matrix` is a sparse CSR (combinations x rows) 0/1 matrix whose
    combination index runs over reference lengths in order (all of length 1, then 2 ...), and
    `outside` counts, per row, its combinations of length <= max_length that `reference` lacks.
    """
    n = int(codes.shape[0])
    starts, total = {}, 0
    for k in reference.lengths:
        starts[k] = total
        total += len(reference.keys[k])
    row_parts, col_parts = [], []
    outside = np.zeros(n, dtype=np.int64)
    for depth, rows, keys, _local, _size in _walk(codes, items, max_length, reference.base):
        own = reference.keys.get(depth)
        if own is None or len(own) == 0:
            np.add.at(outside, rows, 1)
            continue
        at = np.searchsorted(own, keys)
        at = np.minimum(at, len(own) - 1)
        hit = own[at] == keys
        if not hit.all():
            np.add.at(outside, rows[~hit], 1)
        row_parts.append(at[hit] + starts[depth])
        col_parts.append(rows[hit])
    if row_parts:
        r = np.concatenate(row_parts)
        c = np.concatenate(col_parts)
    else:
        r = c = np.zeros(0, np.int64)
    data = np.ones(len(r), dtype=np.float64)
    matrix = sparse.csr_matrix((data, (r, c)), shape=(total, n))
    return matrix, outside


# --- comparing two sets of counts -------------------------------------------------------------

def bucket_of(counts: np.ndarray) -> np.ndarray:
    """Index j of the bucket [10·2^j, 10·2^(j+1)) of each count (counts >= 10 only)."""
    return np.floor(np.log2(np.asarray(counts, dtype=np.float64) / BUCKET_START) + 1e-12).astype(np.int64)


def compare(original: CombinationCounts, target: CombinationCounts) -> dict:
    """Every figure comparing target counts with original counts (see the module's docstring).

    Returns {"lengths": {k: {...}}, "overall": {...}, "buckets": [...], "records": {...}}.
    """
    per_length = {}
    bucket_rows = []
    all_rel, all_pres, all_bucket = [], [], []
    totals = dict(original=0, target=0, suppressed=0, fabricated=0)
    for k in sorted(set(original.lengths) | set(target.lengths)):
        s_keys = original.keys.get(k, np.zeros(0, np.int64))
        s_counts = original.counts.get(k, np.zeros(0, np.int64))
        t_keys = target.keys.get(k, np.zeros(0, np.int64))
        t_on_s = target.lookup(k, s_keys)
        in_t = np.isin(s_keys, t_keys, assume_unique=True) if len(t_keys) else np.zeros(len(s_keys), bool)
        fabricated = int(len(t_keys) - np.count_nonzero(in_t))
        suppressed = int(len(s_keys) - np.count_nonzero(in_t))
        both = in_t
        mae = float(np.mean(np.abs(t_on_s[both] - s_counts[both]))) if both.any() else 0.0
        big = s_counts >= RELATIVE_ERROR_FLOOR
        s_big = s_counts[big].astype(np.float64)
        t_big = t_on_s[big].astype(np.float64)
        rel = np.abs(t_big - s_big) / s_big if len(s_big) else np.zeros(0)
        pres = np.minimum(t_big / s_big, 1.0) if len(s_big) else np.zeros(0)
        buckets = bucket_of(s_big) if len(s_big) else np.zeros(0, np.int64)
        n_s = len(s_keys)
        per_length[k] = {
            "combinations": n_s,
            "target_combinations": int(len(t_keys)),
            "suppressed_pct": 100.0 * suppressed / n_s if n_s else 0.0,
            "fabricated_pct": 100.0 * fabricated / n_s if n_s else 0.0,
            "fabricated_of_target_pct": 100.0 * fabricated / len(t_keys) if len(t_keys) else 0.0,
            "mean_absolute_error": mae,
            "relative_error_combinations": int(len(s_big)),
            "mean_relative_error": float(rel.mean()) if len(rel) else 0.0,
            "mean_preservation": float(pres.mean()) if len(pres) else 0.0,
        }
        totals["original"] += n_s
        totals["target"] += len(t_keys)
        totals["suppressed"] += suppressed
        totals["fabricated"] += fabricated
        all_rel.append(rel)
        all_pres.append(pres)
        all_bucket.append(buckets)
        bucket_rows.extend(_bucket_summary(buckets, pres, rel, k))
    rel = np.concatenate(all_rel) if all_rel else np.zeros(0)
    pres = np.concatenate(all_pres) if all_pres else np.zeros(0)
    buckets = np.concatenate(all_bucket) if all_bucket else np.zeros(0, np.int64)
    bucket_rows.extend(_bucket_summary(buckets, pres, rel, None))
    n_s = totals["original"]
    overall = {
        "combinations": n_s,
        "target_combinations": totals["target"],
        "suppressed_pct": 100.0 * totals["suppressed"] / n_s if n_s else 0.0,
        "fabricated_pct": 100.0 * totals["fabricated"] / n_s if n_s else 0.0,
        "fabricated_of_target_pct": 100.0 * totals["fabricated"] / totals["target"] if totals["target"] else 0.0,
        "retained_pct": 100.0 - (100.0 * totals["suppressed"] / n_s if n_s else 0.0),
        "mean_relative_error": float(rel.mean()) if len(rel) else 0.0,
        "mean_preservation": float(pres.mean()) if len(pres) else 0.0,
    }
    records = {
        "original": int(original.n_records),
        "target": int(target.n_records),
        "record_expansion_pct": (100.0 * (target.n_records / original.n_records - 1.0)
                                 if original.n_records else 0.0),
    }
    return {"lengths": per_length, "overall": overall, "buckets": bucket_rows, "records": records}


def _bucket_summary(buckets, pres, rel, length):
    rows = []
    for j in np.unique(buckets):
        sel = buckets == j
        rows.append({"length": length, "bucket_low": int(BUCKET_START * 2 ** int(j)),
                     "combinations": int(sel.sum()),
                     "mean_preservation": float(pres[sel].mean()),
                     "mean_proportional_error": float(rel[sel].mean())})
    return rows


def quality_rows(figures: dict, comparison: str = PUBLIC_COMPARISON) -> list:
    """The figures of `compare` as the store's quality rows."""
    from data.writer import QualityRow

    rows = []
    for k, f in figures["lengths"].items():
        for metric in ("combinations", "target_combinations", "suppressed_pct", "fabricated_pct",
                       "fabricated_of_target_pct", "mean_absolute_error", "relative_error_combinations",
                       "mean_relative_error", "mean_preservation"):
            rows.append(QualityRow(comparison, metric, float(f[metric]), length=int(k)))
    for metric in ("combinations", "target_combinations", "suppressed_pct", "fabricated_pct",
                   "fabricated_of_target_pct", "retained_pct", "mean_relative_error", "mean_preservation"):
        rows.append(QualityRow(comparison, metric, float(figures["overall"][metric])))
    for b in figures["buckets"]:
        for metric, name in (("combinations", "bucket_combinations"),
                             ("mean_preservation", "bucket_preservation"),
                             ("mean_proportional_error", "bucket_proportional_error")):
            rows.append(QualityRow(comparison, name, float(b[metric]), length=b["length"],
                                   bucket_low=b["bucket_low"]))
    rows.append(QualityRow(comparison, "original_records", float(figures["records"]["original"])))
    rows.append(QualityRow(comparison, "synthetic_records", float(figures["records"]["target"])))
    rows.append(QualityRow(comparison, "record_expansion_pct", float(figures["records"]["record_expansion_pct"])))
    return rows


# --- the stage --------------------------------------------------------------------------------

@dataclass
class Evaluation:
    public: dict                      # synthetic vs protected (safe to publish)
    quality: list                     # the same as QualityRows
    private: dict | None = None       # figures that involve the sensitive records


def evaluate(synthetic_codes: np.ndarray, aggregates: ProtectedAggregates,
             sensitive_codes: np.ndarray | None = None) -> Evaluation:
    """Compare the synthetic records with the protected aggregates (public), and, when the
    sensitive records are given, protected and synthetic counts with the true ones (private)."""
    protected = aggregate_counts(aggregates)
    length = max(protected.lengths) if protected.lengths else 1
    synthetic = count_combinations(synthetic_codes, aggregates.items, length)
    public = compare(protected, synthetic)
    private = None
    if sensitive_codes is not None:
        true = count_combinations(sensitive_codes, aggregates.items, length)
        private = {
            "true_records": true.n_records,
            "protected_vs_true": compare(true, protected),
            "synthetic_vs_true": compare(true, synthetic),
        }
    return Evaluation(public, quality_rows(public), private)


def write_private_report(path: str | os.PathLike, report: dict) -> None:
    """The data owner's report (figures from the sensitive records: never publish it)."""
    text = json.dumps(report, indent=2, sort_keys=True, default=_json_default)
    write_text_atomically(path, [text, "\n"])


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
