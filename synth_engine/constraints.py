"""What the protected counts say the synthetic records must respect, read before synthesis.

The default synthesizer fits the protected counts in units of their noise; besides the counts
themselves the release implies three rules, each derived here from public figures alone:

* fabrication measured against the noise: a combination of length k that the release does not
  list had a noisy count at or below the threshold, so its true count need not be 0; a synthetic
  count up to threshold_k + 1.96 noise sd is as plausible as a listed one (`caps`). Without the
  release's noise parameters nothing unlisted may be made (cap 0);
* implications: where n(A and B) >= n(B) - 3 noise sd of that difference (the sds of lengths 1
  and 2 added in quadrature) and n(B) is at least 20 such sd, B (nearly) never occurs without A,
  so no synthetic record holds B without A. The evaluation (noise_units.py) names an implication
  at 2 sd; at 3 a true implication (difference 0) is missed once in 700 instead of once in 40,
  and every implication the evaluation names is kept. For a rarer B the noise alone would make
  such pairs, with contradicting A's;
* complete columns: where the values' counts add up to the record count within noise and the
  privacy core's truncation (`_complete_columns`), no synthetic record leaves the column missing.

`enforce` makes records from the column fill obey the last two (the fill does not know them)
and brings each value's 1-count to its protected count (the fill leaves a record without a value
where the value would make an unlisted combination, which wide records with many columns often
would); the polish then keeps the rules and rearranges the values by swaps, which keep 1-counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.aggregates import ProtectedAggregates

Z95 = 1.96  # the 95 % noise interval, in noise sd
IMPLICATION_SDS = 3.0  # n(A and B) >= n(B) - this many noise sd: B implies A ...
IMPLICATION_SUPPORT_SDS = 20.0  # ... when n(B) is at least this many noise sd
REPAIR_PASSES = 6  # rounds of setting the implied items (each may imply further ones)


@dataclass
class FitRules:
    noise_sd: np.ndarray  # (R,) noise sd of a count of length k = 1..R
    caps: np.ndarray  # (R,) largest synthetic count of an unlisted combination of length k
    complete: np.ndarray  # (columns,) True: the column is never missing
    antecedent: np.ndarray  # (n,) implication A -> B as parallel arrays: B needs A
    consequent: np.ndarray

    def as_dict(self) -> dict:
        return {
            "unlisted_caps": [round(float(c), 2) for c in self.caps],
            "complete_columns": int(self.complete.sum()),
            "implications": len(self.antecedent),
        }

    def needs(self, n_items: int) -> tuple[np.ndarray, np.ndarray]:
        """CSR over items: the antecedents each item needs (ptr, items)."""
        return _csr(self.consequent, self.antecedent, n_items)

    def needed_by(self, n_items: int) -> tuple[np.ndarray, np.ndarray]:
        """CSR over items: the items that need each item (ptr, items)."""
        return _csr(self.antecedent, self.consequent, n_items)


def _csr(owner: np.ndarray, member: np.ndarray, n: int):
    order = np.argsort(owner, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))]).astype(np.int64)
    return ptr, member[order].astype(np.int64)


def noise_parameters(aggregates: ProtectedAggregates, R: int) -> tuple[np.ndarray, np.ndarray]:
    """Per length 1..R: the noise sd and the cap on unlisted combinations. Unknown noise (an
    aggregates file without the release's parameters): sd 1 and cap 0, nothing unlisted made."""
    sd = np.ones(R)
    caps = np.zeros(R)
    for length in aggregates.lengths:
        if 1 <= length.length <= R and length.noise_sd > 0:
            sd[length.length - 1] = length.noise_sd
            caps[length.length - 1] = length.threshold + Z95 * length.noise_sd
    return sd, caps


def fit_rules(aggregates: ProtectedAggregates, R: int) -> FitRules:
    sd, caps = noise_parameters(aggregates, R)
    items = aggregates.items
    single = np.zeros(items.n_items)
    if 1 in aggregates.combos and len(aggregates.combos[1]):
        single[aggregates.combos[1][:, 0]] = aggregates.counts[1]
    antecedent, consequent = _implications(aggregates, single, sd)
    complete = _complete_columns(aggregates, single, sd[0], caps[0] - Z95 * sd[0])
    return FitRules(sd, caps, complete, antecedent, consequent)


def _implications(aggregates, single: np.ndarray, sd: np.ndarray):
    pairs = aggregates.combos.get(2)
    if pairs is None or len(pairs) == 0 or len(sd) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    both = np.asarray(aggregates.counts[2], np.float64)
    a = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
    b = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
    both = np.concatenate([both, both])
    sd_difference = np.hypot(sd[0], sd[1])
    holds = (IMPLICATION_SUPPORT_SDS * sd_difference <= single[b]) & (
        both >= single[b] - IMPLICATION_SDS * sd_difference
    )
    return a[holds], b[holds]


def _complete_columns(aggregates, single: np.ndarray, sd: float, threshold: float) -> np.ndarray:
    """A column is complete when its listed values' counts reach the record count within 3 noise
    sd of their difference, allowing half the threshold for each value the release leaves out
    and what the truncation at length 1 removes (`truncation_loss`). The columns that pass share
    that loss: each is kept only when its shortfall is within the noise of the smallest one, so
    a column missing in a few records is not taken for complete beside the truly complete ones."""
    items = aggregates.items
    n_columns = len(items.codebook)
    total = np.bincount(items.column_of, weights=single, minlength=n_columns)
    listed = np.bincount(items.column_of, weights=(single > 0).astype(float), minlength=n_columns)
    values = np.diff(items.offsets)
    unlisted = (values - listed) * max(threshold, 0.0) / 2
    shortfall = aggregates.record_count - total
    near = (listed > 0) & (
        shortfall <= IMPLICATION_SDS * sd * np.sqrt(listed + 1) + unlisted + truncation_loss(aggregates, n_columns)
    )
    if not near.any():
        return near
    best = int(np.flatnonzero(near)[np.argmin(shortfall[near])])
    spread = IMPLICATION_SDS * sd * np.sqrt(listed + listed[best]) + unlisted + unlisted[best]
    return near & (shortfall <= shortfall[best] + spread)


def truncation_loss(aggregates, n_columns: int) -> float:
    """At most how many items of a complete column the truncation at length 1 takes away, from
    public figures: a record with m > Δ_1 items keeps a random Δ_1 of them, so it loses a given
    item with probability (m − Δ_1) / m <= (columns − Δ_1) / columns, and at most the share of
    records above the p-th percentile Δ_1, (100 − p) %, hold more than Δ_1 items."""
    percentile = aggregates.parameters.get("percentile_percentage")
    first = [length for length in aggregates.lengths if length.length == 1]
    if percentile is None or not first or first[0].sensitivity <= 0:
        return 0.0
    over = max(aggregates.record_count, 0) * (100.0 - float(percentile)) / 100.0
    return over * max(n_columns - first[0].sensitivity, 0) / n_columns


def enforce(state: np.ndarray, rules: FitRules, items, single: np.ndarray, rng) -> dict:
    """Fill the missing cells of complete columns (the values most short of their protected
    count first), then give every record that holds B without A the item A, in place. Returns
    how many cells each step changed."""
    filled = 0
    for j in np.flatnonzero(rules.complete):
        filled += _complete_column(state, j, items, single, rng)
    implied = 0
    for _ in range(REPAIR_PASSES):
        changed = 0
        for a, b in zip(rules.antecedent.tolist(), rules.consequent.tolist()):
            column_a = items.column_of[a]
            broken = (state[:, items.column_of[b]] == b) & (state[:, column_a] != a)
            changed += int(broken.sum())
            state[broken, column_a] = a
        implied += changed
        if changed == 0:
            break
    moved = sum(_meet_single_count(state, x, rules, items, single, rng) for x in range(items.n_items))
    return {"completed_cells": filled, "implied_cells": implied, "single_count_cells": moved}


def _meet_single_count(state, x: int, rules: FitRules, items, single: np.ndarray, rng) -> int:
    """Give value x to (or take it from) random records until its 1-count is the protected one:
    records missing x's column that hold every item x needs, or records holding x with no item
    that needs x (a complete column keeps its values)."""
    j = items.column_of[x]
    held = state[:, j] == x
    gap = int(np.rint(single[x])) - int(held.sum())
    if gap > 0:
        free = state[:, j] < 0
        for a in rules.antecedent[rules.consequent == x]:
            free &= state[:, items.column_of[a]] == a
        chosen = rng.permutation(np.flatnonzero(free))[:gap]
        state[chosen, j] = x
    elif gap < 0 and not rules.complete[j]:
        for b in rules.consequent[rules.antecedent == x]:
            held &= state[:, items.column_of[b]] != b
        chosen = rng.permutation(np.flatnonzero(held))[:-gap]
        state[chosen, j] = -1
    else:
        return 0
    return len(chosen)


def _complete_column(state, j: int, items, single: np.ndarray, rng) -> int:
    missing = np.flatnonzero(state[:, j] < 0)
    if len(missing) == 0:
        return 0
    values = np.arange(items.offsets[j], items.offsets[j + 1])
    held = np.bincount(state[state[:, j] >= 0, j] - items.offsets[j], minlength=len(values))
    short = np.maximum(single[values] - held, 0.0)
    share = short if short.sum() > 0 else np.maximum(single[values], 1.0)
    picks = rng.choice(values, size=len(missing), p=share / share.sum())
    state[missing, j] = picks
    return len(missing)


def implication_violations(codes: np.ndarray, rules: FitRules, items) -> int:
    """Records holding B without A, summed over the implications A -> B (codes: 0 = missing)."""
    state = items.record_items(codes)
    total = 0
    for a, b in zip(rules.antecedent.tolist(), rules.consequent.tolist()):
        total += int(np.sum((state[:, items.column_of[b]] == b) & (state[:, items.column_of[a]] != a)))
    return total
