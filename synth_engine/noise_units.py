"""Agreement of one set of combination counts with another, in units of the release's noise (#12).

A protected count p of length k carries Gaussian noise of standard deviation sd_k = σ_k·√Δ_k
(`noise_sd` of release_lengths). A compared count x (of synthetic records, or the protected count
itself against the true one) deviates from the reference r by z = (x − r) / sd_k. Records that
are exactly the true ones show mean |z| ≈ 0.8 and 95 % of |z| ≤ 1.96 against the protected counts:
that is the yardstick, where a mean of relative errors would hide large misses on large counts.

* Deviation figures, per length, per count bucket and over all lengths, over the reference
  combinations with r ≥ 10: how many, mean |z|, the share inside the 95 % noise interval, the
  largest |z| and the mean relative error |x − r| / r (kept for comparison with SDS's figures).
  Buckets are decades of r: 10–99, 100–999, 1,000–9,999 and ≥ 10,000. Against the true
  counts, only the combinations the release lists are measured (the rest are suppressed).
* The largest deviations: the combinations (any count) furthest from their reference in |z|.
* Unlisted combinations of length ≥ 2: compared combinations the reference lacks; those beyond
  the noise have a count above threshold_k + 1.96·sd_k (a listed count could not hide them).
  SDS's fabricated % (|unlisted| / |reference|) and suppressed % stay beside them.
* Implications, derived from the protected counts alone: value B implies value A (another
  column) when n(A and B) ≥ n(B) − 2·sd, sd the noise of that difference √(sd_1² + sd_2²), and
  n(B) ≥ 20·sd: on smaller counts the 2·sd of slack is over a tenth of n(B) and the rule would
  take loose associations for implications. Records with B that lack A break it; an implication
  is violated when more than 0.5 % of the records with B break it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from data.aggregates import ProtectedAggregates, unpack

FLOOR = 10  # deviation figures are taken over reference counts >= this
BUCKET_LOWS = (10, 100, 1_000, 10_000)
INTERVAL_Z = 1.96  # the two-sided 95 % interval of a Gaussian, in sd
LARGEST = 20  # how many of the largest deviations are kept
IMPLICATION_SLACK_SD = 2.0  # n(A and B) within this many sd of n(B): B implies A
IMPLICATION_SUPPORT_SD = 20.0  # ... when n(B) is at least this many sd
BREACH_SHARE = 0.005  # more records with B lacking A than this share: violated


@dataclass(frozen=True)
class Noise:
    """The release's noise sd and threshold per combination length."""

    sd: dict[int, float]
    threshold: dict[int, float]

    @classmethod
    def of(cls, aggregates: ProtectedAggregates) -> Noise:
        sd = {p.length: float(p.noise_sd) for p in aggregates.lengths if p.noise_sd}
        threshold = {p.length: float(p.threshold or 0.0) for p in aggregates.lengths}
        return cls(sd, threshold)

    def allowance(self, length: int) -> float:
        """The largest count an unlisted combination of this length can have within the noise."""
        return self.threshold.get(length, 0.0) + INTERVAL_Z * self.sd[length]


def bucket_low(counts: np.ndarray) -> np.ndarray:
    """The lower edge of each count's decade bucket (counts >= 10; the last bucket is open)."""
    counts = np.asarray(counts, dtype=np.float64)
    lows = np.asarray(BUCKET_LOWS, dtype=np.float64)
    return lows[np.searchsorted(lows, counts, side="right") - 1].astype(np.int64)


def _summary(z: np.ndarray, reference: np.ndarray, compared: np.ndarray) -> dict:
    """The deviation figures of one group of combinations."""
    gap = np.abs(compared - reference)
    return {
        "measured_combinations": len(z),
        "mean_abs_z": float(np.abs(z).mean()),
        "within_noise_95_pct": 100.0 * float(np.mean(np.abs(z) <= INTERVAL_Z)),
        "max_abs_z": float(np.abs(z).max()),
        "mean_relative_error": float(np.mean(gap / reference)),
    }


def deviation_figures(reference, compared, noise: Noise, listed=None) -> dict:
    """Deviation figures of `compared` against `reference` (both CombinationCounts), per length
    (with its buckets) and over all lengths, and the LARGEST deviations as
    (length, key, reference count, compared count, z) sorted by |z| descending. With `listed`
    (the protected counts, when the reference is the true one), only over the combinations it
    lists: the ones it left out are counted as suppressed, not as deviations."""
    lengths, pooled, candidates = {}, [], []
    for k in reference.lengths:
        if k not in noise.sd:
            continue
        keys = reference.keys[k]
        keep = np.ones(len(keys), bool) if listed is None else listed.lookup(k, keys) > 0
        keys, ref = keys[keep], reference.counts[k][keep].astype(np.float64)
        got = compared.lookup(k, keys).astype(np.float64)
        z = (got - ref) / noise.sd[k]
        measured = ref >= FLOOR
        if measured.any():
            group = (z[measured], ref[measured], got[measured])
            lows = bucket_low(group[1])
            lengths[k] = _summary(*group)
            lengths[k]["buckets"] = {
                int(low): _summary(*(part[lows == low] for part in group)) for low in np.unique(lows)
            }
            pooled.append(group)
        top = np.argsort(-np.abs(z), kind="stable")[:LARGEST]
        candidates.extend((k, int(keys[i]), int(ref[i]), int(got[i]), float(z[i])) for i in top)
    overall = _summary(*(np.concatenate(part) for part in zip(*pooled))) if pooled else None
    candidates.sort(key=lambda row: (-abs(row[4]), row[0], row[1]))
    return {"lengths": lengths, "overall": overall, "largest": candidates[:LARGEST]}


def unlisted_figures(reference, compared, noise: Noise) -> dict:
    """Per length >= 2: compared combinations the reference lacks, those beyond the noise, SDS's
    fabricated % (over the reference's combinations) and suppressed % (reference combinations
    the compared counts lack)."""
    out = {}
    for k in reference.lengths:
        if k < 2 or k not in noise.sd:
            continue
        ref_keys = reference.keys[k]
        own_keys = compared.keys.get(k, np.zeros(0, np.int64))
        own_counts = compared.counts.get(k, np.zeros(0, np.int64))
        unlisted = ~np.isin(own_keys, ref_keys, assume_unique=True)
        missing = int(np.count_nonzero(compared.lookup(k, ref_keys) == 0))
        n_ref = max(len(ref_keys), 1)
        out[k] = {
            "unlisted_combinations": int(unlisted.sum()),
            "unlisted_beyond_noise": int(np.count_nonzero(own_counts[unlisted] > noise.allowance(k))),
            "fabricated_pct": 100.0 * float(unlisted.sum()) / n_ref,
            "suppressed_pct": 100.0 * missing / n_ref,
        }
    return out


def implications(protected, noise: Noise) -> np.ndarray:
    """(n, 2) item ids (B, A): B implies A by the protected counts (see the module's docstring)."""
    if 2 not in protected.lengths or not {1, 2} <= set(noise.sd):
        return np.zeros((0, 2), np.int64)
    sd = math.hypot(noise.sd[1], noise.sd[2])
    pairs = unpack(protected.keys[2], 2, protected.base)
    both = protected.counts[2].astype(np.float64)
    found = []
    for b, a in ((0, 1), (1, 0)):
        single = protected.lookup(1, pairs[:, b]).astype(np.float64)
        holds = (both >= single - IMPLICATION_SLACK_SD * sd) & (single >= IMPLICATION_SUPPORT_SD * sd)
        found.append(pairs[holds][:, [b, a]])
    rules = np.concatenate(found)
    return rules[np.lexsort((rules[:, 1], rules[:, 0]))]


def implication_breaches(rules: np.ndarray, counts) -> dict:
    """For each rule (B, A), the records with B and those with B lacking A, counted in `counts`
    (CombinationCounts of a set of records); the number of rules violated and of breaches."""
    if len(rules) == 0:
        return {"implications": 0, "implications_violated": 0, "implication_breaches": 0, "rules": []}
    with_b = counts.lookup(1, rules[:, 0])
    pair_keys = np.sort(rules, axis=1)
    with_both = counts.lookup(2, pair_keys[:, 0] * counts.base + pair_keys[:, 1])
    lacking = with_b - with_both
    violated = lacking > BREACH_SHARE * with_b
    return {
        "implications": len(rules),
        "implications_violated": int(violated.sum()),
        "implication_breaches": int(lacking.sum()),
        "rules": [(int(b), int(a), int(n), int(m)) for (b, a), n, m in zip(rules, with_b, lacking)],
    }
