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

The stage (`evaluate`) speaks in noise units (see `synth_engine.noise_units`): the public
figures, stored in the release's `quality` and `quality_deviations` tables, compare the synthetic
records with the protected counts ('synthetic_vs_protected'): mean |z|, the share inside the 95 %
noise interval and the largest |z| per length and count bucket, the largest deviations,
unlisted combinations beyond the noise, the records holding an unlisted combination and the
implications of the protected counts that the records violate. With the sensitive records the
same figures compare synthetic and protected counts with the true ones: they are not
differentially private and only ever go to the data owner's private report.

SDS's own metrics (`compare`, see sds-method.md "Evaluation") compare an *original* set of
counts S with a *target* set T over lengths 1..R, for the synthesizer's tests and the bench:
suppressed % = |S \\ T| / |S| · 100 and fabricated % = |T \\ S| / |S| · 100
(`fabricated_of_target_pct` divides by |T|); the mean absolute error over S ∩ T; the mean
relative error |t − s| / s over s ≥ 10 (absent counting as 0); preservation min(t / s, 1) by
count bucket [10·2^j, 10·2^(j+1)); record expansion % = (N_target / N_original − 1) · 100.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from data.aggregates import ProtectedAggregates, pack, unpack, write_text_atomically
from data.dataset import ItemSpace
from data.schema import DEVIATION_METRICS, PUBLIC_COMPARISON, UNLISTED_METRICS
from synth_engine.noise_units import (
    FLOOR,
    Noise,
    deviation_figures,
    implication_breaches,
    implications,
    unlisted_figures,
)

RELATIVE_ERROR_FLOOR = 10  # relative errors are taken over original counts >= this
BUCKET_START = 10  # first preservation bucket [10, 20), then [20, 40) ...


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


def count_combinations(
    codes: np.ndarray, items: ItemSpace, max_length: int, weights: np.ndarray | None = None
) -> CombinationCounts:
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
            first[local] = keys  # any row of a value tuple carries its key
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


def _matches(codes: np.ndarray, items: ItemSpace, reference: CombinationCounts, max_length: int):
    """Yield (length, rows, at, hit) for every column tuple of `_walk`: `hit` marks the rows
    whose combination `reference` holds, at its index `at` within the reference's length."""
    for depth, rows, keys, _local, _size in _walk(codes, items, max_length, reference.base):
        own = reference.keys.get(depth)
        if own is None or len(own) == 0:
            yield depth, rows, np.zeros(len(rows), np.int64), np.zeros(len(rows), bool)
            continue
        at = np.minimum(np.searchsorted(own, keys), len(own) - 1)
        yield depth, rows, at, own[at] == keys


def combination_incidence(codes: np.ndarray, items: ItemSpace, reference: CombinationCounts, max_length: int):
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
    for depth, rows, at, hit in _matches(codes, items, reference, max_length):
        if not hit.all():
            np.add.at(outside, rows[~hit], 1)
        if hit.any():
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


def rows_with_unlisted(
    codes: np.ndarray, items: ItemSpace, reference: CombinationCounts, max_length: int
) -> np.ndarray:
    """Per row of `codes`, whether it holds a combination of length <= max_length that
    `reference` lacks (combination_incidence's `outside` > 0, without building the matrix)."""
    found = np.zeros(int(codes.shape[0]), dtype=bool)
    for _depth, rows, _at, hit in _matches(codes, items, reference, max_length):
        found[rows[~hit]] = True
    return found


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
        "record_expansion_pct": (100.0 * (target.n_records / original.n_records - 1.0) if original.n_records else 0.0),
    }
    return {"lengths": per_length, "overall": overall, "buckets": bucket_rows, "records": records}


def _bucket_summary(buckets, pres, rel, length):
    rows = []
    for j in np.unique(buckets):
        sel = buckets == j
        rows.append(
            {
                "length": length,
                "bucket_low": int(BUCKET_START * 2 ** int(j)),
                "combinations": int(sel.sum()),
                "mean_preservation": float(pres[sel].mean()),
                "mean_proportional_error": float(rel[sel].mean()),
            }
        )
    return rows


# --- the stage: agreement in noise units ------------------------------------------------------

IMPLICATION_METRICS = ("implications", "implications_violated", "implication_breaches")


@dataclass
class Evaluation:
    public: dict  # synthetic vs protected (safe to publish)
    quality: list  # the same as QualityRows
    deviations: list  # its largest deviations as QualityDeviations
    private: dict | None = None  # figures that involve the sensitive records


def agreement(
    reference: CombinationCounts,
    compared: CombinationCounts,
    noise: Noise,
    items: ItemSpace,
    listed: CombinationCounts | None = None,
) -> dict:
    """Deviation and unlisted figures of `compared` against `reference` (see noise_units; the
    deviations over the combinations `listed` when given), the largest deviations with their
    combinations written as keys."""
    figures = deviation_figures(reference, compared, noise, listed)
    figures["largest"] = [
        {
            "length": k,
            "key": items.key(unpack(np.array([key]), k, reference.base)[0]),
            "reference_count": r,
            "compared_count": c,
            "z": z,
        }
        for k, key, r, c, z in figures["largest"]
    ]
    figures["unlisted"] = unlisted_figures(reference, compared, noise)
    return figures


def implication_figures(rules: np.ndarray, counts: CombinationCounts, items: ItemSpace) -> dict:
    """implication_breaches with each rule written as keys: (B, A, records with B, lacking A)."""
    figures = implication_breaches(rules, counts)
    figures["rules"] = [
        {"if": items.key([b]), "then": items.key([a]), "records_with_if": n, "lacking_then": m}
        for b, a, n, m in figures["rules"]
    ]
    return figures


def evaluate(
    synthetic_codes: np.ndarray, aggregates: ProtectedAggregates, sensitive_codes: np.ndarray | None = None
) -> Evaluation:
    """Compare the synthetic records with the protected aggregates in noise units (public), and,
    when the sensitive records are given, synthetic and protected counts with the true ones
    (private)."""
    protected = aggregate_counts(aggregates)
    length = max(protected.lengths) if protected.lengths else 1
    items = aggregates.items
    noise = Noise.of(aggregates)
    synthetic = count_combinations(synthetic_codes, items, length)
    rules = implications(protected, noise)
    public = agreement(protected, synthetic, noise, items)
    unlisted_rows = rows_with_unlisted(synthetic_codes, items, protected, length)
    public["records_with_unlisted_pct"] = 100.0 * float(unlisted_rows.mean()) if len(unlisted_rows) else 0.0
    public["implications"] = implication_figures(rules, synthetic, items)
    public["records"] = {
        "protected": int(protected.n_records),
        "synthetic": int(synthetic.n_records),
        "record_expansion_pct": (
            100.0 * (synthetic.n_records / protected.n_records - 1.0) if protected.n_records else 0.0
        ),
    }
    private = None
    if sensitive_codes is not None:
        true = count_combinations(sensitive_codes, items, length)
        private = {
            "true_records": true.n_records,
            "synthetic_vs_true": agreement(true, synthetic, noise, items, listed=protected),
            "protected_vs_true": agreement(true, protected, noise, items, listed=protected),
            "implications_in_true_records": implication_figures(rules, true, items),
        }
    return Evaluation(public, quality_rows(public), deviation_rows(public), private)


def quality_rows(public: dict, comparison: str = PUBLIC_COMPARISON) -> list:
    """The public figures of `evaluate` as the store's quality rows."""
    from data.writer import QualityRow

    def rows(figures, metrics, length=None, bucket=None):
        return [QualityRow(comparison, m, float(figures[m]), length=length, bucket_low=bucket) for m in metrics]

    out = []
    for k, figures in sorted(public["lengths"].items()):
        out += rows(figures, DEVIATION_METRICS, k)
        for low, bucket in sorted(figures["buckets"].items()):
            out += rows(bucket, DEVIATION_METRICS, k, low)
    if public["overall"]:
        out += rows(public["overall"], DEVIATION_METRICS)
    for k, figures in sorted(public["unlisted"].items()):
        out += rows(figures, UNLISTED_METRICS, k)
    out += rows(public["implications"], IMPLICATION_METRICS)
    out += rows(public, ("records_with_unlisted_pct",))
    out += [
        QualityRow(comparison, f"{name}_records", float(public["records"][name])) for name in ("protected", "synthetic")
    ]
    out += rows(public["records"], ("record_expansion_pct",))
    return out


def deviation_rows(public: dict, comparison: str = PUBLIC_COMPARISON) -> list:
    """The largest deviations of `evaluate`'s public figures as the store's rows."""
    from data.writer import QualityDeviation

    return [
        QualityDeviation(
            comparison, rank, row["length"], row["key"], row["reference_count"], row["compared_count"], row["z"]
        )
        for rank, row in enumerate(public["largest"], start=1)
    ]


def summary_lines(public: dict) -> list[str]:
    """The public figures in a few lines, for the build's summary."""
    lines = []
    for k, f in sorted(public["lengths"].items()):
        unlisted = public["unlisted"].get(k)
        extra = (
            f"; {unlisted['unlisted_beyond_noise']:,} of {unlisted['unlisted_combinations']:,} unlisted "
            "combinations beyond the noise"
            if unlisted
            else ""
        )
        lines.append(
            f"length {k}: mean |z| {f['mean_abs_z']:.2f}, {f['within_noise_95_pct']:.1f} % inside the 95 % "
            f"noise interval, largest |z| {f['max_abs_z']:.1f} (over {f['measured_combinations']:,} "
            f"protected counts >= {FLOOR}), mean relative error {f['mean_relative_error']:.4f}{extra}"
        )
    rules = public["implications"]
    lines.append(
        f"{rules['implications_violated']} of {rules['implications']} implications of the protected "
        f"counts violated; {public['records_with_unlisted_pct']:.2f} % of the records hold an unlisted "
        f"combination; record expansion {public['records']['record_expansion_pct']:+.2f} %"
    )
    return lines


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
