"""The synthesize stage: synthetic records made from the protected aggregates alone.

Both synthesizers read only a `ProtectedAggregates` (the differentially private counts of
combinations of length 1..R, the protected record count and the noise parameters); they never
see a sensitive record, so everything they output is post-processing of differentially private
figures.

* `sds` — Synthetic Data Showcase's aggregate-seeded sampler (sds.py), kept as the baseline to
  measure against.
* `default` — the project's own (see `synthesize_default` and the comment below): all records
  are filled one column at a time (fill.py, repair.py), then every cell of every record is
  revisited by a global polish against all protected counts at once (polish.py), both fitting
  the counts in units of their noise. The number of records is the protected record count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from data.aggregates import ProtectedAggregates
from synth_engine.constraints import enforce, fit_rules, implication_violations
from synth_engine.evaluate import aggregate_counts
from synth_engine.fill import (
    RowSpace,
    column_entries,
    column_order,
    fill_column,
    next_groups,
)
from synth_engine.polish import polish
from synth_engine.sds import synthesize_sds
from synth_engine.synthesis_result import SynthesisResult, no_progress

SYNTHESIZERS = ("default", "sds")
FILL_PROGRESS = 60  # of the default synthesizer's 100 progress units; the polish has the rest
LENGTH_BALANCE = 0.25  # see combination_weights


def synthesize(
    aggregates: ProtectedAggregates, synthesizer: str, rng: np.random.Generator, progress=None
) -> SynthesisResult:
    """Synthetic records from the protected aggregates with the named synthesizer.

    `progress(n)` is called as work is done (units of work out of 100)."""
    if synthesizer == "sds":
        return synthesize_sds(aggregates, rng, progress=progress)
    if synthesizer == "default":
        return synthesize_default(aggregates, rng, progress=progress)
    raise ValueError(f"unknown synthesizer {synthesizer!r} (choose from {', '.join(SYNTHESIZERS)})")


# --- the project's synthesizer ----------------------------------------------------------------
#
# Every protected count is fitted in units of its noise: z_c = (synthetic_c − protected_c) / sd_k,
# sd_k = σ_k·√Δ_k the noise sd of a count of length k, so that a miss of one record at a count of
# 12 weighs what it weighs at a count of 39,000 (a relative error would make it weigh 3,000 times
# more). The column fill lowers Σ_c |z_c|, the polish Σ_c z_c².
#
# The records are filled one column at a time, all records at once (fill.py). Before column j is
# filled, records with the same items so far form a group G (g_G records, items S_G). Filling
# column j decides every protected combination whose last column in the filling order is j: the
# combinations T ∪ {x} with x a value of column j and T ⊆ S_G, |T| <= R - 1. The counts to fit at
# column j are therefore indexed by (T, x): the "rows" T are the empty combination and the
# protected combinations of length < R, the "outcomes" x are the values of column j and "missing".
#
# With B the sparse (groups x rows) 0/1 matrix "T ⊆ S_G", the work is sparse products:
# * outcome x is forbidden for group G when some T ∪ {x}, T ⊆ S_G, is not protected (the fill
#   makes nothing unlisted; the polish may, within the noise);
# * small columns (few groups x outcomes) are solved exactly as a linear program minimising
#   Σ_c |z_c|; larger ones start from a log-linear model q_G(x) ∝ exp(Σ_{T ⊆ S_G} λ[T, x])
#   fitted by damped iterative scaling, rounded per group so each group keeps its number of records;
# * an integer repair (repair.py) then moves records of a group from one outcome to another, or
#   moves a value from records of one group to missing records of another (which keeps its
#   1-count), while that lowers the error;
# * last, each value's 1-count is brought to its protected count by the cheapest additions or
#   removals, where the aggregates leave a record free to take the value.
# The fill cannot revisit a column once it is decided, and it knows neither the implications nor
# the complete columns: `constraints.enforce` then fills the complete columns and gives every
# record the items its items imply, and the polish (polish.py) swaps and changes cells of the
# records against every protected count at once, keeping those rules and making unlisted
# combinations only up to their cap (threshold + 1.96 noise sd). The records left with no item at
# all are the empty records; the number of records is the protected record count.


@dataclass
class DefaultSettings:
    """Public settings of the default synthesizer (recorded with the release)."""

    fit_iterations: int = 6  # iterative-scaling rounds per column
    repair_rounds: int = 12  # integer-repair rounds per column, at most (the polish does
    # better with more time than the fill does)
    min_improvement: float = 0.0005  # a column's repair stops when two rounds gain less than this share
    moves_per_round: float = 0.05  # at most this share of the groups move in one round
    lp_max_cells: int = 5_000  # columns with at most this many (group, outcome) cells: exact LP
    lp_seconds: float = 30.0  # time limit of one LP, against a pathological case (then scaling)
    column_order: str = "cardinality"  # or 'fill', 'flags-first'
    polish_proposals: float = 60.0  # proposals of the global polish, per record (see polish.py;
    # 100 gained little on the 50,000-record sample and the demonstration
    # source at 1.3x the polish time; 40 left length 1 at mean |z| 1.02)
    polish_min_proposals: int = 1_000_000  # ... but at least this many: a second's work, which a
    # small input (a few thousand records) needs to fit
    polish_swap_share: float = 0.93  # ... this share of them swaps (the rest: single-cell moves)

    def as_dict(self) -> dict:
        return dict(vars(self))


def combination_weights(counts, R: int, noise_sd) -> dict:
    """Per length k, the weight of each protected combination (aligned with counts.keys[k]) in the
    error both the column fill and the polish lower: 1 / noise sd of a count of length k, times
    (n_most / n_k)^LENGTH_BALANCE with n_k the number of combinations of length k. Each length is
    judged on its own (mean |z| per length); without the factor the few single items would be
    crowded out by the many triples that share their records."""
    sizes = {k: len(counts.counts.get(k, ())) for k in range(1, R + 1)}
    most = max(max(sizes.values()), 1)
    return {k: np.full(n, (most / max(n, 1)) ** LENGTH_BALANCE / noise_sd[k - 1]) for k, n in sizes.items()}


def synthesize_default(
    aggregates: ProtectedAggregates, rng: np.random.Generator, settings: DefaultSettings | None = None, progress=None
) -> SynthesisResult:
    """The project's synthesizer: a column-by-column fit of all protected counts, the rules
    enforced, then a global polish (see above)."""
    settings = settings or DefaultSettings()
    progress = progress or no_progress
    items = aggregates.items
    R = max(aggregates.reporting_length, 1)
    counts = aggregate_counts(aggregates)
    rules = fit_rules(aggregates, R)
    weights = combination_weights(counts, R, rules.noise_sd)
    state, stats = _fill(aggregates, counts, weights, settings, rng, progress)
    single = np.zeros(items.n_items)
    if 1 in aggregates.combos and len(aggregates.combos[1]):
        single[aggregates.combos[1][:, 0]] = aggregates.counts[1]
    stats["rules"] = {**rules.as_dict(), **enforce(state, rules, items, single, rng)}
    clock = time.perf_counter()
    polish_work = max(int(settings.polish_proposals * len(state)), settings.polish_min_proposals)
    polished = polish(
        state,
        items.offsets,
        counts,
        weights,
        rules,
        polish_work,
        settings.polish_swap_share,
        rng,
        progress=progress,
        chunks=100 - FILL_PROGRESS,
    )
    stats["polish"] = {**polished.as_dict(), "seconds": time.perf_counter() - clock}
    codes = items.item_codes(state)
    codes = codes[rng.permutation(len(codes))]
    stats["empty_records"] = int(np.count_nonzero(~(codes > 0).any(axis=1))) if len(codes) else 0
    stats["rules"]["violations"] = implication_violations(codes, rules, items)
    return SynthesisResult(codes, "default", {**settings.as_dict(), **rules.as_dict()}, stats)


def _fill(aggregates, counts, weights, settings, rng, progress):
    """The column fill: (records x columns) item ids (-1 = missing) and per-column statistics."""
    items = aggregates.items
    n_columns = len(items.codebook)
    R = max(aggregates.reporting_length, 1)
    rows = RowSpace(counts, R)
    entries = column_entries(counts, items, rows, R, weights)
    order = column_order(items, counts, settings.column_order)
    n = int(max(aggregates.record_count, 0))
    state = np.full((n, n_columns), -1, dtype=np.int32)  # item ids, -1 = missing
    group = np.zeros(n, dtype=np.int64)  # records with the same items so far
    B = sparse.csr_matrix((np.ones(1), (np.zeros(1, np.int64), np.zeros(1, np.int64))), shape=(1, rows.n))
    stats = {"columns": []}
    done = 0
    for step, j in enumerate(order):
        clock = time.perf_counter()
        outcome, column = fill_column(j, group, B, entries[j], rows, items, settings, rng)
        V = int(items.offsets[j + 1] - items.offsets[j])
        present = outcome < V
        state[present, j] = (items.offsets[j] + outcome[present]).astype(np.int32)
        if step + 1 < n_columns:
            group, B = next_groups(group, outcome, V, B, rows, items.offsets[j])
        column["seconds"] = time.perf_counter() - clock
        stats["columns"].append(column)
        share = int(FILL_PROGRESS * (step + 1) / n_columns) - done
        if share > 0:
            progress(share)
            done += share
    if done < FILL_PROGRESS:
        progress(FILL_PROGRESS - done)
    return state, stats
