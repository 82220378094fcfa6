"""The aggregate stage: differentially private counts of every short combination of values.

This is the privacy core of the engine. It follows Synthetic Data Showcase's DP aggregation
(core 1.9, the method behind pac-synth 0.0.8 and the CTDC releases), as written down in
sds-method.md:

* a small share ε_N of ε protects the number of records (Laplace noise);
* the rest becomes a zero-concentrated budget ρ, split between a private percentile per length
  (ε_Q each) and Gaussian noise per length (σ_k);
* for each length k = 1..R the candidates are every value seen (k = 1) or every k-combination
  whose sub-combinations of length 2..k-1 (and whose single items) survived; each record's
  contribution is capped at a private 99th percentile Δ_k of the contributions (a record over the
  cap keeps a uniformly random Δ_k of its combinations); Gaussian noise N(0, σ_k²·Δ_k) is added
  to every candidate, seen or not; a threshold decides what is kept;
* post-processing: round, drop zeros, give a missing parent the largest count of its children,
  cap every count by the counts of its sub-combinations.

Everything is vectorized with numpy: Python loops run over lengths, over record sizes, over
index tuples of a combination and over blocks of records, never over single records or single
combinations. All randomness comes from the numpy Generator the caller passes in.

Combinations are handled as packed integer keys (candidates.py), with items renumbered 0..s-1:
the surviving single values, in item-id order, so in column order.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from data.aggregates import LengthParameters, ProtectedAggregates, pack
from data.dataset import Dataset, InputError, ItemSpace
from synth_engine.candidates import KeyLookup, RecordItems, first_pairs, next_candidates

ACCURACY_MODES = ("prioritize-long", "prioritize-short", "balanced", "custom")
FABRICATION_MODES = ("uncontrolled", "balanced", "progressive", "minimize", "custom")


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivacySettings:
    """What the privacy core is asked to do (pac-synth's defaults, except ε = 12 as CTDC used).

    delta=None means SDS's default 1/(n·ln n), taken from the *protected* record count so that
    the published δ does not give away the true number of records.
    sigma_proportions is given with accuracy_mode='custom' (one value per length 1..R);
    thresholds is given with fabrication_mode='custom' (fixed thresholds for lengths 2..R).
    """

    epsilon: float = 12.0
    delta: float | None = None
    reporting_length: int = 3
    percentile_percentage: int = 99
    percentile_epsilon_proportion: float = 0.01
    number_of_records_epsilon_proportion: float = 0.005
    accuracy_mode: str = "prioritize-long"
    sigma_proportions: tuple[float, ...] | None = None
    fabrication_mode: str = "uncontrolled"
    thresholds: tuple[float, ...] | None = None

    def __post_init__(self):
        if self.sigma_proportions is not None:
            object.__setattr__(self, "sigma_proportions", tuple(float(p) for p in self.sigma_proportions))
        if self.thresholds is not None:
            object.__setattr__(self, "thresholds", tuple(float(t) for t in self.thresholds))
        self.validate()

    def validate(self) -> None:
        if not _is_number(self.epsilon) or not math.isfinite(self.epsilon) or self.epsilon <= 0:
            raise InputError(f"epsilon must be a number greater than 0 (got {self.epsilon!r})")
        if self.delta is not None and (not _is_number(self.delta) or not 0 < self.delta < 1):
            raise InputError(f"delta must be between 0 and 1, both excluded (got {self.delta!r})")
        if (
            isinstance(self.reporting_length, bool)
            or not isinstance(self.reporting_length, (int, np.integer))
            or self.reporting_length < 1
        ):
            raise InputError(f"reporting length must be a whole number of at least 1 (got {self.reporting_length!r})")
        percentage = self.percentile_percentage
        if isinstance(percentage, bool) or not isinstance(percentage, (int, np.integer)) or not 0 <= percentage <= 100:
            raise InputError(
                f"percentile percentage must be a whole number from 0 to 100 (got {self.percentile_percentage!r})"
            )
        for name in ("percentile_epsilon_proportion", "number_of_records_epsilon_proportion"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 < value < 1:
                raise InputError(f"{name.replace('_', ' ')} must be between 0 and 1, both excluded (got {value!r})")
        if self.accuracy_mode not in ACCURACY_MODES:
            raise InputError(f"unknown accuracy mode {self.accuracy_mode!r} (choose from {', '.join(ACCURACY_MODES)})")
        if self.accuracy_mode == "custom":
            if self.sigma_proportions is None:
                raise InputError("the custom accuracy mode needs sigma proportions (one per length 1..R)")
            if len(self.sigma_proportions) != self.reporting_length:
                raise InputError(
                    f"sigma proportions need one value per length 1..{self.reporting_length} "
                    f"(got {len(self.sigma_proportions)})"
                )
            if not all(math.isfinite(p) and p > 0 for p in self.sigma_proportions):
                raise InputError("sigma proportions must all be numbers greater than 0")
        elif self.sigma_proportions is not None:
            raise InputError(f"sigma proportions go with the custom accuracy mode, not {self.accuracy_mode!r}")
        if self.fabrication_mode not in FABRICATION_MODES:
            raise InputError(
                f"unknown fabrication mode {self.fabrication_mode!r} (choose from {', '.join(FABRICATION_MODES)})"
            )
        if self.fabrication_mode == "custom":
            if self.thresholds is None:
                raise InputError("the custom fabrication mode needs thresholds (one per length 2..R)")
            if len(self.thresholds) != self.reporting_length - 1:
                raise InputError(
                    f"thresholds need one value per length 2..{self.reporting_length} "
                    f"({self.reporting_length - 1} values, got {len(self.thresholds)})"
                )
            if not all(math.isfinite(t) and t >= 0 for t in self.thresholds):
                raise InputError("thresholds must all be numbers of at least 0")
        elif self.thresholds is not None:
            raise InputError(f"thresholds go with the custom fabrication mode, not {self.fabrication_mode!r}")

    def resolved_sigma_proportions(self) -> tuple[float, ...]:
        """p_k for k = 1..R: σ_k = p_k·σ."""
        r = self.reporting_length
        if self.accuracy_mode == "prioritize-long":
            return tuple(1.0 / k for k in range(1, r + 1))
        if self.accuracy_mode == "prioritize-short":
            return tuple(1.0 / (r - k + 1) for k in range(1, r + 1))
        if self.accuracy_mode == "balanced":
            return (1.0,) * r
        return tuple(self.sigma_proportions)

    def fabrication_etas(self) -> dict[int, float]:
        """η_k for k = 2..R of the adaptive fabrication modes (empty for the custom fixed mode)."""
        r = self.reporting_length
        lengths = range(2, r + 1)
        if self.fabrication_mode == "uncontrolled":
            return {k: 1.0 for k in lengths}
        if self.fabrication_mode == "minimize":
            return {k: 0.01 for k in lengths}
        if self.fabrication_mode == "balanced":
            return {k: (0.55 if k == 2 else 1.0) for k in lengths}
        if self.fabrication_mode == "progressive":
            if r == 2:
                return {2: 0.1}
            return {k: min(1.0, 0.1 + 0.9 * (k - 2) / (r - 2)) for k in lengths}
        return {}


def _is_number(value) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and not math.isnan(value)
    )


@dataclass(frozen=True)
class Budget:
    """The split of ε (see sds-method.md, "Budget")."""

    epsilon_n: float  # protects the record count (Laplace)
    epsilon_m: float  # everything else, turned into ρ
    rho: float  # zero-concentrated DP budget of the counts
    epsilon_q: float  # the private percentile at each length
    sigmas: tuple[float, ...]  # σ_k, k = 1..R


def split_budget(params: PrivacySettings, delta: float) -> Budget:
    eps_n = params.number_of_records_epsilon_proportion * params.epsilon
    eps_m = params.epsilon - eps_n
    log_term = math.log(2.0 / delta)
    rho = (math.sqrt(eps_m + log_term) - math.sqrt(log_term)) ** 2
    r = params.reporting_length
    q_p = params.percentile_epsilon_proportion
    eps_q = math.sqrt(2.0 * rho * q_p / r)
    proportions = params.resolved_sigma_proportions()
    base = math.sqrt(sum(1.0 / (p * p) for p in proportions) / (2.0 * rho * (1.0 - q_p)))
    return Budget(eps_n, eps_m, rho, eps_q, tuple(p * base for p in proportions))


def default_delta(record_count: int) -> float:
    """SDS's default δ = 1/(n·ln n) (n: the protected record count)."""
    if record_count < 2:
        raise InputError("too few records to derive a default delta from; give delta explicitly")
    return 1.0 / (record_count * math.log(record_count))


# --- thresholds ----------------------------------------------------------------------------------


def first_length_threshold(sigma: float, sensitivity: int, delta: float) -> float:
    """1 + σ_1·√Δ_1·Φ⁻¹((1 − δ/2)^(1/Δ_1)): the threshold that makes the set of values private."""
    tail = -math.expm1(math.log1p(-delta / 2.0) / sensitivity)  # 1 − (1 − δ/2)^(1/Δ), accurately
    return 1.0 + sigma * math.sqrt(sensitivity) * float(-ndtri(tail))


def adaptive_threshold(sigma: float, sensitivity: int, eta: float) -> float:
    """σ_k·√Δ_k·Φ⁻¹(1 − min(η/2, 0.5)): η = 1 gives 0, smaller η cuts more fabricated noise."""
    return sigma * math.sqrt(sensitivity) * float(-ndtri(min(eta / 2.0, 0.5))) + 0.0


def length_threshold(params: PrivacySettings, budget: Budget, delta: float, length: int, sensitivity: int) -> float:
    sigma = budget.sigmas[length - 1]
    if length == 1:
        return first_length_threshold(sigma, sensitivity, delta)
    if params.fabrication_mode == "custom":
        return float(params.thresholds[length - 2])
    return adaptive_threshold(sigma, sensitivity, params.fabrication_etas()[length])


# --- the private percentile ---------------------------------------------------------------------


def _quantile_type8(sorted_values: np.ndarray, tau: float) -> float:
    """Hyndman–Fan type 8 quantile (the estimator of statrs, which SDS uses)."""
    n = len(sorted_values)
    h = (n + 1.0 / 3.0) * tau + 1.0 / 3.0
    hf = int(h)
    if hf <= 0 or tau == 0.0:
        return float(sorted_values[0])
    if hf >= n or tau == 1.0:
        return float(sorted_values[-1])
    a, b = float(sorted_values[hf - 1]), float(sorted_values[hf])
    return a + (h - hf) * (b - a)


def percentile_scores(contributions: np.ndarray, percentage: int) -> np.ndarray:
    """Quality scores of the candidate values 0..max(contributions) for the percentile (SDS's
    rule: minus how far, in positions of the sorted data, a value's last occurrence is from the
    percentile's; absent values repeat the previous distance, at least 1)."""
    data = np.sort(np.asarray(contributions, dtype=np.int64))
    n = len(data)
    q = percentage / 100.0
    percentile = math.floor(_quantile_type8(data, q))
    percentile_index = int(np.searchsorted(data, percentile, side="right")) - 1
    percentile_value = int(data[percentile_index])
    top = int(data[-1])
    values = np.arange(top + 1)
    last_index = np.searchsorted(data, values, side="right") - 1
    present = (last_index >= 0) & (data[np.maximum(last_index, 0)] == values)
    distance = np.full(top + 1, np.nan)
    below = present & (values < percentile_value)
    above = present & (values > percentile_value)
    distance[below] = percentile_index - last_index[below]
    distance[above] = last_index[above] - percentile_index
    distance[percentile_value] = 0.0
    if top > percentile_value:
        distance[top] = math.ceil(n * (1.0 - q))
    if np.isnan(distance[0]):
        distance[0] = math.ceil(n * q)
    defined = ~np.isnan(distance)
    source = np.maximum.accumulate(np.where(defined, values, 0))
    filled = distance[source]
    filled[~defined] = np.maximum(filled[~defined], 1.0)
    return -filled


def dp_percentile(contributions: np.ndarray, percentage: int, epsilon: float, rng: np.random.Generator) -> int:
    """A differentially private percentile of non-negative integers: report-noisy-max over the
    values 0..max with exponential noise of mean 2/ε (SDS's DpPercentile)."""
    if len(contributions) == 0:
        return 0
    scores = percentile_scores(contributions, percentage)
    noisy = scores + rng.exponential(2.0 / epsilon, size=len(scores))
    return int(np.argmax(noisy))


# --- the per-length steps -----------------------------------------------------------------------


def truncate_contributions(
    rows: np.ndarray, combos: np.ndarray, contributions: np.ndarray, sensitivity: int, rng: np.random.Generator
) -> np.ndarray:
    """The combinations counted, from (record, combination) pairs: a record with more than
    `sensitivity` combinations keeps a uniformly random `sensitivity` of them."""
    if sensitivity <= 0:
        return combos[:0]
    over = contributions[rows] > sensitivity
    if not over.any():
        return combos
    over_rows, over_combos = rows[over], combos[over]
    order = np.lexsort((rng.random(len(over_rows)), over_rows))
    sorted_rows = over_rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(sorted_rows)]))
    rank = np.arange(len(sorted_rows)) - run_start
    return np.concatenate([combos[~over], over_combos[order][rank < sensitivity]])


def noisy_counts(true_counts: np.ndarray, noise_sd: float, rng: np.random.Generator) -> np.ndarray:
    """true counts + N(0, noise_sd²), for every candidate (true zeros included)."""
    return true_counts.astype(np.float64) + rng.standard_normal(len(true_counts)) * noise_sd


def protect_record_count(n_records: int, epsilon_n: float, rng: np.random.Generator) -> int:
    """round(N + Laplace(1/ε_N)), at least 1 (SDS stops when the noise makes it ≤ 0; clamping is
    post-processing, so it costs no privacy)."""
    return max(1, math.floor(n_records + rng.laplace(0.0, 1.0 / epsilon_n) + 0.5))


def _round_half_away(values: np.ndarray) -> np.ndarray:
    """Rust's f64::round for the non-negative values here."""
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5).astype(np.int64)


# --- post-processing ----------------------------------------------------------------------------


@dataclass
class _Level:
    keys: np.ndarray  # sorted packed keys
    items: np.ndarray  # (n, k) local item ids
    counts: np.ndarray  # protected counts (int64 after rounding)


def _post_process(levels: dict[int, _Level], base: int) -> dict[int, _Level]:
    """Round and drop ≤ 0; add missing parents (length ≥ 2) with the largest count of the
    combinations that contain them; cap every count by its sub-combinations' counts."""
    out = {}
    for k, level in levels.items():
        counts = _round_half_away(level.counts)
        keep = counts > 0
        out[k] = _Level(level.keys[keep], level.items[keep], counts[keep])

    lengths = sorted(out)
    missing: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {k: [] for k in lengths}
    for k in lengths:
        for sub_length in range(2, k):
            lookup = KeyLookup(out[sub_length].keys, base**sub_length)
            for positions in itertools.combinations(range(k), sub_length):
                sub_items = out[k].items[:, positions]
                sub_keys = pack(sub_items, base)
                absent = lookup.find(sub_keys) < 0
                if absent.any():
                    missing[sub_length].append((sub_keys[absent], sub_items[absent], out[k].counts[absent]))
    for k, parts in missing.items():
        if not parts:
            continue
        keys = np.concatenate([p[0] for p in parts])
        items = np.concatenate([p[1] for p in parts])
        counts = np.concatenate([p[2] for p in parts])
        order = np.argsort(keys, kind="stable")
        keys, items, counts = keys[order], items[order], counts[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        added = _Level(keys[starts], items[starts], np.maximum.reduceat(counts, starts))
        level = out[k]
        merged_keys = np.concatenate([level.keys, added.keys])
        order = np.argsort(merged_keys, kind="stable")
        out[k] = _Level(
            merged_keys[order],
            np.concatenate([level.items, added.items])[order],
            np.concatenate([level.counts, added.counts])[order],
        )

    capped = {}
    for k in lengths:
        counts = out[k].counts.copy()
        for sub_length in range(1, k):
            lookup = KeyLookup(out[sub_length].keys, base**sub_length)
            sub_counts = out[sub_length].counts
            for positions in itertools.combinations(range(k), sub_length):
                found = lookup.find(pack(out[k].items[:, positions], base))
                hit = found >= 0
                counts[hit] = np.minimum(counts[hit], sub_counts[found[hit]])
        capped[k] = counts
    for k in lengths:
        out[k].counts = capped[k]
    return out


# --- the stage ------------------------------------------------------------------------------------


@dataclass
class _Trace:
    """What happened at each length (for tests and benchmarks only; it holds exact counts, so it
    must never be written anywhere)."""

    candidates: dict[int, np.ndarray] = field(default_factory=dict)  # (n, k) global item ids
    true_counts: dict[int, np.ndarray] = field(default_factory=dict)  # after truncation
    noisy_counts: dict[int, np.ndarray] = field(default_factory=dict)
    contributions: dict[int, np.ndarray] = field(default_factory=dict)


def aggregate(dataset: Dataset, params: PrivacySettings, rng: np.random.Generator) -> ProtectedAggregates:
    """The differentially private aggregates of a dataset (the aggregate stage)."""
    return _aggregate(dataset, params, rng)


def _aggregate(
    dataset: Dataset, params: PrivacySettings, rng: np.random.Generator, trace: _Trace | None = None
) -> ProtectedAggregates:
    params.validate()
    items = ItemSpace(dataset.codebook)
    n = dataset.n_records
    if n == 0:
        raise InputError("there are no records to aggregate")
    r = params.reporting_length

    # the record count, then δ and the rest of the budget
    record_count = protect_record_count(n, params.number_of_records_epsilon_proportion * params.epsilon, rng)
    delta = params.delta if params.delta is not None else default_delta(record_count)
    budget = split_budget(params, delta)

    global_ids = items.record_items(dataset.codes)
    singles, survivors, noisy_singles = _protect_singles(items, global_ids, params, budget, delta, rng, trace)
    lengths = [singles]
    base = max(len(survivors), 1)
    if base**r >= 2**63:
        raise InputError(f"reporting length {r} is too long for {len(survivors):,} distinct values")
    columns = items.column_of[survivors]
    levels = {1: _Level(np.arange(len(survivors), dtype=np.int64), np.arange(len(survivors))[:, None], noisy_singles)}

    # lengths 2..R; records' items renumbered to the surviving values (index -1, the extra last
    # entry, maps a missing value to -1)
    local = np.full(items.n_items + 1, -1, dtype=np.int32)
    local[survivors] = np.arange(len(survivors))
    active_items = None
    records = None
    for k in range(2, r + 1):
        prev = levels[k - 1]
        if k == 2:
            cand_keys, cand_items = first_pairs(len(survivors), columns)
        else:
            prev_lookup = KeyLookup(prev.keys, base ** (k - 1))
            cand_keys, cand_items = next_candidates(prev.keys, prev.items, base, columns, prev_lookup)
        if len(cand_keys):
            # only values inside a surviving (k-1)-combination can be part of a candidate; the
            # sets shrink from length to length, so an equal size means the same set
            active = np.unique(prev.items)
            if active_items is None or len(active) != len(active_items):
                active_items = active
                mask = np.full(len(survivors) + 1, -1, dtype=np.int32)
                mask[active] = active
                records = RecordItems(mask[local[global_ids]])
            lookup = KeyLookup(cand_keys, base**k)
            rows, combos = records.candidate_pairs(k, lookup, base)
        else:
            rows, combos = np.zeros(0, np.int32), np.zeros(0, np.int32)
        contributions = np.bincount(rows, minlength=n)
        sensitivity, noisy = _protect_length(
            k,
            rows,
            combos,
            len(cand_keys),
            contributions,
            params,
            budget,
            rng,
            trace,
            survivors[cand_items] if trace is not None else None,
        )
        lengths.append(_length_parameters(params, budget, delta, k, sensitivity))
        keep = (noisy > lengths[-1].threshold) & (noisy > 0)
        levels[k] = _Level(cand_keys[keep], cand_items[keep], noisy[keep])

    final = _post_process(levels, base)
    return ProtectedAggregates(
        items=items,
        record_count=record_count,
        combos={k: survivors[level.items].astype(np.int32).reshape(-1, k) for k, level in final.items()},
        counts={k: level.counts.astype(np.int64) for k, level in final.items()},
        lengths=lengths,
        parameters=_public_parameters(params, budget, delta),
    )


def _protect_singles(items: ItemSpace, global_ids, params, budget, delta, rng, trace):
    """Length 1: every value seen, protected. Returns its parameters, the global ids of the values
    that survive the threshold (ascending) and their noisy counts."""
    seen = np.flatnonzero(np.bincount(global_ids[global_ids >= 0], minlength=items.n_items))
    seen_lookup = np.full(items.n_items, -1, dtype=np.int64)
    seen_lookup[seen] = np.arange(len(seen))
    present = global_ids >= 0
    rows = np.nonzero(present)[0]
    combos = seen_lookup[global_ids[present]]
    contributions = present.sum(axis=1)
    sensitivity, noisy = _protect_length(
        1, rows, combos, len(seen), contributions, params, budget, rng, trace, seen[:, None]
    )
    singles = _length_parameters(params, budget, delta, 1, sensitivity)
    keep = (noisy > singles.threshold) & (noisy > 0)  # nothing when Δ_1 = 0 (threshold inf)
    return singles, seen[keep], noisy[keep]


def _protect_length(k, rows, combos, n_candidates, contributions, params, budget, rng, trace, candidate_items):
    """Δ_k, truncation, counting and noise for one length: (Δ_k, noisy counts of the candidates)."""
    sensitivity = dp_percentile(contributions, params.percentile_percentage, budget.epsilon_q, rng)
    if sensitivity <= 0:
        noisy = np.zeros(n_candidates)
        true = np.zeros(n_candidates, np.int64)
    else:
        counted = truncate_contributions(rows, combos, contributions, sensitivity, rng)
        true = np.bincount(counted, minlength=n_candidates)
        noisy = noisy_counts(true, budget.sigmas[k - 1] * math.sqrt(sensitivity), rng)
    if trace is not None:
        trace.candidates[k] = candidate_items
        trace.true_counts[k] = true
        trace.noisy_counts[k] = noisy
        trace.contributions[k] = contributions
    return sensitivity, noisy


def _length_parameters(params, budget, delta, k, sensitivity) -> LengthParameters:
    sigma = budget.sigmas[k - 1]
    if sensitivity <= 0:
        return LengthParameters(k, sigma, 0, 0.0, math.inf)  # nothing is kept at this length
    return LengthParameters(
        k,
        sigma,
        int(sensitivity),
        sigma * math.sqrt(sensitivity),
        length_threshold(params, budget, delta, k, sensitivity),
    )


def _public_parameters(params: PrivacySettings, budget: Budget, delta: float) -> dict:
    """The build's privacy parameters: given by the user or derived under DP, never exact data."""
    out = {
        "method": "sds-dp-aggregates",
        "epsilon": params.epsilon,
        "delta": delta,
        "delta_is_default": params.delta is None,
        "reporting_length": params.reporting_length,
        "rho": budget.rho,
        "epsilon_n": budget.epsilon_n,
        "epsilon_m": budget.epsilon_m,
        "epsilon_q": budget.epsilon_q,
        "percentile_percentage": params.percentile_percentage,
        "percentile_epsilon_proportion": params.percentile_epsilon_proportion,
        "number_of_records_epsilon_proportion": params.number_of_records_epsilon_proportion,
        "accuracy_mode": params.accuracy_mode,
        "sigma_proportions": list(params.resolved_sigma_proportions()),
        "sigmas": list(budget.sigmas),
        "fabrication_mode": params.fabrication_mode,
    }
    if params.fabrication_mode == "custom":
        out["thresholds"] = {str(k): t for k, t in zip(range(2, params.reporting_length + 1), params.thresholds)}
    else:
        out["fabrication_etas"] = {str(k): eta for k, eta in params.fabrication_etas().items()}
    return out
