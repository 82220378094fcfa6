"""How close can synthetic records come to the protected counts at length 3, in noise units? (#4, #12)

    python -m bench.length3 [--source var/demo-source.csv] [--rows N] [--seed 1] [--rounds 3] [--no-lp]
                            [privacy flags, as `synth_engine build`]

Three measurements on one protected release (our privacy core, by default ε 12 and R 3, seeded
with --seed as `build --seed` seeds it: --seed 1 gives the default store's release):

1. a lower bound, from a linear program: the smallest mean |z| at length 3 (z = (count −
   protected) / noise sd of the length, over protected counts >= 10) of any non-negative counts
   of the protected combinations whose mean |z| at lengths 1 and 2 stays within --goals (0.8
   each by default: what records exactly like the true ones show), and which are consistent the
   way counts of real records must be: in every column, the children of a combination
   (C ∪ {x}, x a value of that column) add up to no more than C's own count (the record count
   for single values). Whole records obey far more than this, so the bound is optimistic;
2. the default synthesizer, then --rounds more rounds of its polish (its proposals per record
   each): how much further the same search goes with more time;
3. Synthetic Data Showcase's sampler, whose records hold too many combinations, padded with empty
   records to the protected record count and polished with the same budget: the same search
   approached from the other side.

For each it prints the mean |z| and the share inside the 95 % noise interval per length (the
build's evaluation, synth_engine.noise_units) and the number of length-3 combination instances
(Σ counts) against the protected total. Several minutes on the full source.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from bench.engine import load_sample, run_synthesis
from data.aggregates import pack, unpack
from synth_engine import pipeline, privacy
from synth_engine.__main__ import add_privacy_arguments, privacy_settings
from synth_engine.constraints import fit_rules
from synth_engine.evaluate import aggregate_counts, count_combinations
from synth_engine.noise_units import FLOOR, Noise, deviation_figures
from synth_engine.polish import polish
from synth_engine.synthesize import DefaultSettings, combination_weights


def length3_bound(counts, column_of: np.ndarray, n_records: int, noise_sd: dict[int, float], goals=(0.8, 0.8)):
    """The linear program of (1) above; returns (least length-3 mean |z|, its Σ of length-3
    counts), or None when no counts meet the goals at lengths 1 and 2. Variables: one count per
    protected combination, then one absolute error per combination >= FLOOR. `column_of[item]`
    is the item's column, `noise_sd[k]` the noise sd of length k."""
    lengths = [k for k in (1, 2, 3) if len(counts.keys.get(k, ())) > 0]
    first = dict(zip(lengths, np.cumsum([0] + [len(counts.keys[k]) for k in lengths])))
    n_counts = sum(len(counts.keys[k]) for k in lengths)
    protected = np.concatenate([counts.counts[k] for k in lengths]).astype(float)
    length = np.concatenate([np.full(len(counts.keys[k]), k) for k in lengths])
    big = np.flatnonzero(protected >= FLOOR)
    n_big = {k: max(int(np.count_nonzero(length[big] == k)), 1) for k in lengths}
    n_columns = int(column_of.max()) + 1
    rows, cols, vals, bounds = [], [], [], []
    n_rows = 0

    def add(row, col, val):
        rows.append(row), cols.append(col), vals.append(val)

    # children of the empty combination (the single values), per column: at most the record count
    singles = unpack(counts.keys[1], 1, counts.base)[:, 0]
    add(column_of[singles], first[1] + np.arange(len(singles)), np.ones(len(singles)))
    bounds.append(np.full(n_columns, float(n_records)))
    n_rows = n_columns
    for k in lengths[1:]:
        combos = unpack(counts.keys[k], k, counts.base)
        for drop in range(k):
            parent = np.searchsorted(counts.keys[k - 1], pack(np.delete(combos, drop, axis=1), counts.base))
            groups, group = np.unique(parent * n_columns + column_of[combos[:, drop]], return_inverse=True)
            add(n_rows + group, first[k] + np.arange(len(combos)), np.ones(len(combos)))
            add(n_rows + np.arange(len(groups)), first[k - 1] + groups // n_columns, -np.ones(len(groups)))
            bounds.append(np.zeros(len(groups)))
            n_rows += len(groups)
    # error_c >= |count_c - protected_c|
    error = n_counts + np.arange(len(big))
    for sign in (1.0, -1.0):
        add(n_rows + np.arange(len(big)), big, np.full(len(big), sign))
        add(n_rows + np.arange(len(big)), error, -np.ones(len(big)))
        bounds.append(sign * protected[big])
        n_rows += len(big)
    # the mean |z| at lengths 1 and 2 within the goals
    for k, goal in zip((1, 2), goals):
        at = np.flatnonzero(length[big] == k)
        add(np.full(len(at), n_rows), error[at], np.full(len(at), 1.0 / noise_sd[k] / n_big[k]))
        bounds.append(np.array([goal]))
        n_rows += 1
    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_counts + len(big))
    )
    objective = np.zeros(n_counts + len(big))
    at3 = np.flatnonzero(length[big] == 3)
    objective[error[at3]] = 1.0 / noise_sd[3] / n_big[3]
    result = linprog(objective, A_ub=matrix, b_ub=np.concatenate(bounds), bounds=(0, None), method="highs")
    if result.status == 2:
        return None
    if result.status != 0:
        raise RuntimeError(f"the linear program did not solve: {result.message}")
    return float(result.fun), float(result.x[first[3] : first[3] + len(counts.keys[3])].sum())


def figures(codes: np.ndarray, aggregates, counts) -> str:
    synthetic = count_combinations(codes, aggregates.items, 3)
    lengths = deviation_figures(counts, synthetic, Noise.of(aggregates))["lengths"]
    z = " / ".join(f"{lengths[k]['mean_abs_z']:.2f}" for k in (1, 2, 3))
    inside = " / ".join(f"{lengths[k]['within_noise_95_pct']:.1f}" for k in (1, 2, 3))
    return f"mean |z| {z}; inside the 95 % interval {inside} %; Σ length-3 counts {int(synthetic.counts[3].sum()):,}"


def polish_rounds(codes: np.ndarray, aggregates, counts, rounds: int, seed: int, label: str) -> None:
    """`rounds` more rounds of the default polish on `codes`, printing the figures after each."""
    items = aggregates.items
    rules = fit_rules(aggregates, aggregates.reporting_length)
    weights = combination_weights(counts, aggregates.reporting_length, rules.noise_sd)
    state = items.record_items(codes).astype(np.int32)
    proposals = int(DefaultSettings().polish_proposals * len(codes))
    for round_ in range(1, rounds + 1):
        clock = time.perf_counter()
        polish(
            state,
            items.offsets,
            counts,
            weights,
            rules,
            proposals,
            DefaultSettings().polish_swap_share,
            np.random.default_rng([seed, round_]),
        )
        print(
            f"  {label} + {round_} polish round(s) ({time.perf_counter() - clock:.1f} s): "
            f"{figures(items.item_codes(state), aggregates, counts)}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="var/demo-source.csv")
    parser.add_argument("--rows", type=int, default=None, help="a sample of this many records")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-lp", action="store_true")
    parser.add_argument(
        "--goals",
        type=float,
        nargs=2,
        default=(0.8, 0.8),
        metavar=("Z1", "Z2"),
        help="the mean |z| the bound allows at lengths 1 and 2",
    )
    add_privacy_arguments(parser)
    args = parser.parse_args()
    # the whole source through the engine's load stage, or a sample as bench/engine.py takes it
    dataset = load_sample(args.rows, args.seed, args.source) if args.rows else pipeline.load(args.source)
    params = privacy_settings(args)
    aggregates = privacy.aggregate(dataset, params, np.random.default_rng(args.seed))  # as the build seeds it
    counts = aggregate_counts(aggregates)
    n = aggregates.record_count
    print(f"protected release: {n:,} records; Σ protected length-3 counts {int(counts.counts[3].sum()):,}")
    if not args.no_lp:
        clock = time.perf_counter()
        noise_sd = {p.length: p.noise_sd for p in aggregates.lengths}
        solved = length3_bound(counts, aggregates.items.column_of, n, noise_sd, tuple(args.goals))
        took = f"linear program, {time.perf_counter() - clock:.0f} s"
        if solved is None:
            print(f"lower bound ({took}): no consistent counts meet mean |z| {args.goals} at lengths 1 / 2")
        else:
            print(
                f"lower bound ({took}): length-3 mean |z| >= {solved[0]:.3f} with lengths 1 / 2 at mean |z| "
                f"<= {args.goals[0]} / {args.goals[1]}; its Σ length-3 counts {solved[1]:,.0f}"
            )
    default = run_synthesis(aggregates, "default", args.seed)
    print(f"default synthesizer ({default['seconds']:.1f} s): {figures(default['codes'], aggregates, counts)}")
    polish_rounds(default["codes"], aggregates, counts, args.rounds, args.seed, "default")
    sds = run_synthesis(aggregates, "sds", args.seed)
    codes = sds["codes"]
    print(f"sds sampler ({sds['seconds']:.1f} s, {len(codes):,} records): {figures(codes, aggregates, counts)}")
    padded = np.zeros((max(n, len(codes)), codes.shape[1]), dtype=codes.dtype)
    padded[: len(codes)] = codes
    polish_rounds(padded, aggregates, counts, 1 + args.rounds, args.seed, "sds padded")


if __name__ == "__main__":
    main()
