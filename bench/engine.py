"""Benchmark of the engine against pac-synth 0.0.8 (Synthetic Data Showcase), the peer it reproduces.

    python -m bench.engine [--rows 50000] [--seed 0] [--reporting-length 3] [--repeats 1] [--json]

One sample of the demonstration source (or of --source CSV) goes through our privacy core
(`synth_engine.privacy.aggregate`) and through pac-synth's `fit` with the same parameters. For
each, per combination length: the number of protected combinations, the mean absolute and mean
relative error of the protected counts against the true ones (over the combinations both hold),
and fabricated % / suppressed % (protected vs true, SDS's definitions). Both run the same method,
so their figures should agree within the noise; pac-synth's noise is unseeded, so --repeats
shows the spread.

Synthesis (skip with --no-synthesis): on the same sample, our two synthesizers (`default` and
`sds`, from our aggregates) and pac-synth's `fit` + `sample` with use_synthetic_counts False and
True (from its own aggregates), timed. Each synthetic set goes through the build's evaluation in
noise units (synth_engine.evaluate, #12) against the protected counts it was made from, and
against the true counts: mean |z|, share inside the 95 % noise interval, largest |z| and mean
relative error per length; unlisted combinations (all and beyond the noise) and SDS's fabricated
%; the records holding an unlisted combination; the implications of the protected counts that
the records violate. pac-synth's release is measured with our noise sd and thresholds per
length: the same method with the same parameters (its Δ_k comes from its own private
percentile and may differ by a little). The time ratio pac-synth (fit + sample) / ours
(aggregate + synthesize) is reported per engine; the default synthesizer is meant to be at
least 10× faster.

The script is made of small steps (load_sample, true_counts, run_ours, run_pacsynth,
compare_release, run_synthesis, run_pacsynth_synthesis, agreement, report, print_text).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc

import numpy as np
import pandas as pd

from data.aggregates import ProtectedAggregates, pack, unpack
from data.dataset import Dataset, ItemSpace, load_csv
from data.schema import DEVIATION_METRICS
from synth_engine import privacy
from synth_engine.__main__ import add_privacy_arguments, privacy_settings
from synth_engine.demo_source import write_demo_source
from synth_engine.evaluate import aggregate_counts, count_combinations, evaluate, key_base
from synth_engine.privacy import PrivacySettings
from synth_engine.synthesize import synthesize

# A release per length: sorted packed keys (item ids, base = the number of items) and counts.
Release = dict[int, tuple[np.ndarray, np.ndarray]]


# --- input ---------------------------------------------------------------------------------------


def load_sample(rows: int, seed: int, source: str | None = None) -> Dataset:
    """`rows` records: a sample of `source` if given, else the demonstration source written with
    that many rows, loaded through the engine's own load/validate stages."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "sample.csv")
        if source is None:
            write_demo_source(path, rows=rows, seed=seed)
        else:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
            if rows < len(frame):
                frame = frame.sample(n=rows, random_state=seed)
            frame.to_csv(path, index=False)
        return load_csv(path)


def pacsynth_frame(dataset: Dataset):
    """The records as pac-synth reads them: strings, '' where missing."""
    frame = dataset.to_frame()
    return frame.astype(object).where(frame.notna(), "").astype(str)


# --- releases ------------------------------------------------------------------------------------


def true_counts(dataset: Dataset, max_length: int) -> Release:
    """Exact counts of every combination of length 1..max_length present in the records."""
    counts = count_combinations(dataset.codes, ItemSpace(dataset.codebook), max_length)
    return {k: (counts.keys[k], counts.counts[k]) for k in counts.lengths}


def ours_release(aggregates) -> Release:
    counts = aggregate_counts(aggregates)
    return {k: (counts.keys[k], counts.counts[k]) for k in counts.lengths}


def pacsynth_release(aggregates: dict[str, int], items: ItemSpace) -> Release:
    by_length: dict[int, tuple[list, list]] = {}
    for key, count in aggregates.items():
        ids = sorted(items.item_of_text(part) for part in key.split(";"))
        combos, counts = by_length.setdefault(len(ids), ([], []))
        combos.append(ids)
        counts.append(count)
    out = {}
    for k, (combos, counts) in by_length.items():
        keys, counts = pack(np.array(combos, np.int64), key_base(items, k)), np.array(counts, np.int64)
        order = np.argsort(keys)
        out[k] = (keys[order], counts[order])
    return out


# --- the two engines -----------------------------------------------------------------------------


def run_ours(dataset: Dataset, params: PrivacySettings, seed: int, trace_memory: bool = True) -> dict:
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    aggregates = privacy.aggregate(dataset, params, np.random.default_rng(seed))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
    if trace_memory:
        tracemalloc.stop()
    return {
        "seconds": seconds,
        "peak_mb": peak / 2**20 if peak is not None else None,
        "record_count": aggregates.record_count,
        "release": ours_release(aggregates),
        "sensitivities": {p.length: p.sensitivity for p in aggregates.lengths},
        "aggregates": aggregates,
    }


def pacsynth_parameters(params: PrivacySettings, use_synthetic_counts: bool = False):
    import pacsynth  # the benchmark peer, installed with the dev extra only

    accuracy = {
        "prioritize-long": pacsynth.AccuracyMode.prioritize_long_combinations,
        "prioritize-short": pacsynth.AccuracyMode.prioritize_short_combinations,
        "balanced": pacsynth.AccuracyMode.balanced,
    }
    fabrication = {
        "uncontrolled": pacsynth.FabricationMode.uncontrolled,
        "balanced": pacsynth.FabricationMode.balanced,
        "progressive": pacsynth.FabricationMode.progressive,
        "minimize": pacsynth.FabricationMode.minimize,
    }
    builder = (
        pacsynth.DpAggregateSeededParametersBuilder()
        .reporting_length(params.reporting_length)
        .epsilon(float(params.epsilon))
        .percentile_percentage(params.percentile_percentage)
        .percentile_epsilon_proportion(params.percentile_epsilon_proportion)
        .number_of_records_epsilon_proportion(params.number_of_records_epsilon_proportion)
        .use_synthetic_counts(use_synthetic_counts)
    )
    if params.delta is not None:
        builder = builder.delta(params.delta)
    if params.accuracy_mode == "custom":
        builder = builder.accuracy_mode(pacsynth.AccuracyMode.custom(list(params.sigma_proportions)))
    else:
        builder = builder.accuracy_mode(accuracy[params.accuracy_mode]())
    if params.fabrication_mode == "custom":
        thresholds = {k: t for k, t in zip(range(2, params.reporting_length + 1), params.thresholds)}
        builder = builder.fabrication_mode(pacsynth.FabricationMode.custom_fixed(thresholds))
    else:
        builder = builder.fabrication_mode(fabrication[params.fabrication_mode]())
    return builder.build()


def run_pacsynth(dataset: Dataset, params: PrivacySettings, sensitive_zeros=()) -> dict:
    """pac-synth's fit on the same records; every column where 0 is a real value must be listed
    in `sensitive_zeros` (none for CTDC: its flags are 1 or empty)."""
    import pacsynth  # the benchmark peer, installed with the dev extra only

    frame = pacsynth_frame(dataset)
    data = pacsynth.Dataset.from_data_frame(frame, sensitive_zeros=list(sensitive_zeros))
    synthesizer = pacsynth.DpAggregateSeededSynthesizer(pacsynth_parameters(params))
    start = time.perf_counter()
    synthesizer.fit(data)
    seconds = time.perf_counter() - start
    items = ItemSpace(dataset.codebook)
    return {
        "seconds": seconds,
        "record_count": synthesizer.get_dp_number_of_records(),
        "release": pacsynth_release(synthesizer.get_dp_aggregates(";"), items),
    }


# --- synthesis -----------------------------------------------------------------------------------

SPEED_GOAL = 10.0  # pac-synth's fit + sample over our aggregate + default synthesis, at least


def run_synthesis(aggregates, name: str, seed: int) -> dict:
    """One of our synthesizers on our aggregates: the synthetic codes and the time taken."""
    start = time.perf_counter()
    result = synthesize(aggregates, name, np.random.default_rng(seed))
    return {"seconds": time.perf_counter() - start, "codes": result.codes}


def _frame_codes(frame, dataset: Dataset) -> np.ndarray:
    """pac-synth's synthetic records (strings, '' = missing) as our codes."""
    columns = []
    for attribute in dataset.codebook:
        values = frame[attribute.name].astype(str).str.strip().replace("", None)
        codes = pd_categorical_codes(values, attribute.values)
        columns.append(codes)
    return np.column_stack(columns).astype(np.uint16) if columns else np.zeros((len(frame), 0), np.uint16)


def pd_categorical_codes(values, categories) -> np.ndarray:
    return (pd.Categorical(values, categories=list(categories)).codes + 1).astype(np.int32)


def run_pacsynth_synthesis(
    dataset: Dataset, params: PrivacySettings, use_synthetic_counts: bool, sensitive_zeros=()
) -> dict:
    """pac-synth's fit + sample (aggregate-seeded) with use_synthetic_counts as given."""
    import pacsynth  # the benchmark peer, installed with the dev extra only

    frame = pacsynth_frame(dataset)
    data = pacsynth.Dataset.from_data_frame(frame, sensitive_zeros=list(sensitive_zeros))
    parameters = pacsynth_parameters(params, use_synthetic_counts=use_synthetic_counts)
    synthesizer = pacsynth.DpAggregateSeededSynthesizer(parameters)
    start = time.perf_counter()
    synthesizer.fit(data)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    raw = synthesizer.sample()
    sample_seconds = time.perf_counter() - start
    synthetic = pd.DataFrame(raw[1:], columns=raw[0])
    items = ItemSpace(dataset.codebook)
    return {
        "fit_seconds": fit_seconds,
        "sample_seconds": sample_seconds,
        "seconds": fit_seconds + sample_seconds,
        "record_count": synthesizer.get_dp_number_of_records(),
        "release": pacsynth_release(synthesizer.get_dp_aggregates(";"), items),
        "codes": _frame_codes(synthetic, dataset),
    }


def pacsynth_aggregates(release: Release, record_count: int, ours) -> ProtectedAggregates:
    """pac-synth's release as protected aggregates, with our release's noise sd and thresholds."""
    base = key_base(ours.items, max(release))
    return ProtectedAggregates(
        items=ours.items,
        record_count=int(record_count),
        combos={k: unpack(keys, k, base) for k, (keys, _) in release.items()},
        counts={k: counts for k, (_, counts) in release.items()},
        lengths=ours.lengths,
    )


def agreement(codes: np.ndarray, dataset: Dataset, aggregates: ProtectedAggregates) -> dict:
    """The build's evaluation of synthetic codes against the aggregates they were made from and
    against the true records (the rules and lists of largest deviations left out)."""
    evaluation = evaluate(codes, aggregates, dataset.codes)
    public, private = evaluation.public, evaluation.private
    implications = {k: v for k, v in public["implications"].items() if k != "rules"}
    return {
        "records": len(codes),
        "protected_records": int(aggregates.record_count),
        "vs_protected": {
            "lengths": _deviations(public),
            "unlisted": public["unlisted"],
            "records_with_unlisted_pct": public["records_with_unlisted_pct"],
            "implications": implications,
        },
        "vs_true": {"lengths": _deviations(private["synthetic_vs_true"])},
    }


def _deviations(figures: dict) -> dict:
    return {k: {m: f[m] for m in DEVIATION_METRICS} for k, f in figures["lengths"].items()}


# --- metrics -------------------------------------------------------------------------------------


def compare_release(truth: Release, release: Release) -> dict[int, dict]:
    """Per length, protected vs true (SDS's evaluation): combinations, errors, fabricated and
    suppressed % of the true combinations."""
    out = {}
    for k in sorted(truth):
        true_keys, true_n = truth[k]
        keys, counts = release.get(k, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        _, in_truth, in_release = np.intersect1d(true_keys, keys, assume_unique=True, return_indices=True)
        error = np.abs(counts[in_release] - true_n[in_truth])
        denominator = max(len(true_keys), 1)
        out[k] = {
            "combinations": int(len(keys)),
            "true_combinations": int(len(true_keys)),
            "mean_absolute_error": float(error.mean()) if len(error) else None,
            "mean_relative_error": float((error / true_n[in_truth]).mean()) if len(error) else None,
            "fabricated_pct": 100.0 * (len(keys) - len(in_release)) / denominator,
            "suppressed_pct": 100.0 * (len(true_keys) - len(in_truth)) / denominator,
        }
    return out


def _summary(runs: list[dict]) -> dict:
    """Means (and spreads, with several runs) of the per-run figures."""
    lengths = sorted(runs[0]["metrics"])
    out = {
        "seconds": float(np.mean([r["seconds"] for r in runs])),
        "record_count": [int(r["record_count"]) for r in runs],
        "lengths": {},
    }
    if runs[0].get("peak_mb") is not None:
        out["peak_mb"] = float(max(r["peak_mb"] for r in runs))
    if "sensitivities" in runs[0]:
        out["sensitivities"] = {k: [r["sensitivities"][k] for r in runs] for k in lengths}
    for k in lengths:
        row = {}
        for name in runs[0]["metrics"][k]:
            values = [r["metrics"][k][name] for r in runs if r["metrics"][k][name] is not None]
            if not values:
                row[name] = None
            elif name in ("true_combinations",):
                row[name] = values[0]
            else:
                row[name] = float(np.mean(values))
                if len(values) > 1:
                    row[name + "_sd"] = float(np.std(values, ddof=1))
        out["lengths"][k] = row
    return out


def report(
    rows: int,
    seed: int,
    params: PrivacySettings,
    repeats: int = 1,
    source: str | None = None,
    with_pacsynth: bool = True,
    with_synthesis: bool = True,
) -> dict:
    start = time.perf_counter()
    dataset = load_sample(rows, seed, source)
    load_seconds = time.perf_counter() - start
    truth = true_counts(dataset, params.reporting_length)
    ours, peers = [], []
    first_aggregates = None
    for i in range(repeats):
        run = run_ours(dataset, params, seed + i)
        aggregates = run.pop("aggregates")
        if first_aggregates is None:
            first_aggregates = (aggregates, run["seconds"])
        run["metrics"] = compare_release(truth, run.pop("release"))
        ours.append(run)
        if with_pacsynth:
            peer = run_pacsynth(dataset, params)
            peer["metrics"] = compare_release(truth, peer.pop("release"))
            peers.append(peer)
    result = {
        "rows": dataset.n_records,
        "columns": len(dataset.codebook),
        "seed": seed,
        "repeats": repeats,
        "source": source or "demonstration source",
        "items_per_record": float((dataset.codes > 0).sum(axis=1).mean()),
        "load_seconds": load_seconds,
        "parameters": {k: v for k, v in vars(params).items()},
        "ours": _summary(ours),
    }
    if with_pacsynth:
        result["pacsynth"] = _summary(peers)
        result["time_ratio"] = result["ours"]["seconds"] / result["pacsynth"]["seconds"]
    if with_synthesis:
        result["synthesis"] = synthesis_report(dataset, params, first_aggregates, seed, with_pacsynth)
    return result


def synthesis_report(dataset: Dataset, params: PrivacySettings, ours, seed: int, with_pacsynth: bool) -> dict:
    """Our synthesizers (from our aggregates) and pac-synth's fit + sample, timed and compared."""
    aggregates, aggregate_seconds = ours
    engines = {}
    for name in ("default", "sds"):
        run = run_synthesis(aggregates, name, seed)
        engines[name] = {
            "synthesis_seconds": run["seconds"],
            "seconds": aggregate_seconds + run["seconds"],
            **agreement(run["codes"], dataset, aggregates),
        }
    if with_pacsynth:
        for counts in (False, True):
            run = run_pacsynth_synthesis(dataset, params, counts)
            engines[f"pacsynth_synthetic_counts_{str(counts).lower()}"] = {
                "fit_seconds": run["fit_seconds"],
                "sample_seconds": run["sample_seconds"],
                "seconds": run["seconds"],
                **agreement(
                    run["codes"], dataset, pacsynth_aggregates(run["release"], run["record_count"], aggregates)
                ),
            }
    out = {"engines": engines}
    if with_pacsynth:
        out["speedup"] = {
            f"{peer} / {ours_name}": engines[peer]["seconds"] / engines[ours_name]["seconds"]
            for peer in engines
            if peer.startswith("pacsynth")
            for ours_name in ("default", "sds")
        }
        out["default_speed_goal_met"] = all(
            ratio >= SPEED_GOAL for label, ratio in out["speedup"].items() if label.endswith("/ default")
        )
    return out


# --- output --------------------------------------------------------------------------------------


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_text(result: dict) -> None:
    print(
        f"{result['rows']:,} records x {result['columns']} columns ({result['source']}, seed {result['seed']}), "
        f"{result['items_per_record']:.2f} values per record; loaded in {result['load_seconds']:.1f} s"
    )
    p = result["parameters"]
    print(
        f"epsilon {p['epsilon']}, delta {p['delta'] or 'default'}, reporting length {p['reporting_length']}, "
        f"{p['accuracy_mode']}, fabrication {p['fabrication_mode']}; {result['repeats']} run(s)"
    )
    engines = [("ours", result["ours"])] + ([("pac-synth", result["pacsynth"])] if "pacsynth" in result else [])
    for name, summary in engines:
        extra = f", peak {summary['peak_mb']:.0f} MB" if summary.get("peak_mb") is not None else ""
        print(f"{name:>9}: {summary['seconds']:.2f} s{extra}, protected record count {summary['record_count']}")
    if "time_ratio" in result:
        print(f"time ours / pac-synth: {result['time_ratio']:.3f}")
    if "sensitivities" in result["ours"]:
        print("Δ_k (ours): " + ", ".join(f"{k}: {v}" for k, v in result["ours"]["sensitivities"].items()))
    print(f"{'length':>6} {'engine':>9} {'combos':>9} {'true':>9} {'MAE':>8} {'MRE':>7} {'fabr %':>8} {'suppr %':>8}")
    for k in sorted(result["ours"]["lengths"]):
        for name, summary in engines:
            m = summary["lengths"][k]
            print(
                f"{k:>6} {name:>9} {m['combinations']:>9.0f} {m['true_combinations']:>9} "
                f"{_fmt(m['mean_absolute_error'], '8.2f')} {_fmt(m['mean_relative_error'], '7.3f')} "
                f"{m['fabricated_pct']:>8.2f} {m['suppressed_pct']:>8.2f}"
            )


def print_synthesis(synthesis: dict) -> None:
    engines = synthesis["engines"]
    print(
        "\nsynthesis (seconds: aggregate + synthesize for ours, fit + sample for pac-synth); each engine "
        "against its own protected counts, in noise units, over protected counts >= 10"
    )
    print(f"{'engine':>32} {'seconds':>8} {'records':>8} {'protected':>9}")
    for name, e in engines.items():
        print(f"{name:>32} {e['seconds']:>8.1f} {e['records']:>8} {e['protected_records']:>9}")
    print(
        f"{'length':>6} {'engine':>32} {'mean|z|':>8} {'in 95 %':>8} {'max|z|':>8} {'MRE':>7} "
        f"{'unlisted > noise / all':>24} {'fabr %':>7} {'true mean|z|':>12}"
    )
    for k in sorted(next(iter(engines.values()))["vs_protected"]["lengths"]):
        for name, e in engines.items():
            f = e["vs_protected"]["lengths"][k]
            unlisted = e["vs_protected"]["unlisted"].get(k)
            beyond = (
                f"{unlisted['unlisted_beyond_noise']:,} / {unlisted['unlisted_combinations']:,}" if unlisted else "-"
            )
            print(
                f"{k:>6} {name:>32} {f['mean_abs_z']:>8.2f} {f['within_noise_95_pct']:>8.1f} "
                f"{f['max_abs_z']:>8.1f} {f['mean_relative_error']:>7.3f} {beyond:>24} "
                f"{_fmt(unlisted and unlisted['fabricated_pct'], '7.2f'):>7} "
                f"{e['vs_true']['lengths'][k]['mean_abs_z']:>12.2f}"
            )
    print(f"{'engine':>32} {'records with unlisted %':>24} {'implications violated / found':>30} {'breaches':>9}")
    for name, e in engines.items():
        v = e["vs_protected"]
        rules = v["implications"]
        print(
            f"{name:>32} {v['records_with_unlisted_pct']:>24.2f} "
            f"{rules['implications_violated']:>20} / {rules['implications']:<7} {rules['implication_breaches']:>9}"
        )
    for label, ratio in synthesis.get("speedup", {}).items():
        print(f"time {label}: {ratio:.1f}x")
    if "default_speed_goal_met" in synthesis:
        print(
            f"default synthesizer at least {SPEED_GOAL:.0f}x faster than pac-synth: "
            f"{'yes' if synthesis['default_speed_goal_met'] else 'NO'}"
        )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", help="a records CSV to sample instead of the demonstration source")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each engine (pac-synth is unseeded)")
    parser.add_argument("--no-pacsynth", action="store_true", help="time our stages only")
    parser.add_argument("--no-synthesis", action="store_true", help="compare the aggregates only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_privacy_arguments(parser)
    args = parser.parse_args(argv)
    params = privacy_settings(args)
    result = report(
        args.rows, args.seed, params, args.repeats, args.source, not args.no_pacsynth, not args.no_synthesis
    )
    if args.json:
        print(json.dumps(_jsonable(result), sort_keys=True))
    else:
        print_text(result)
        if "synthesis" in result:
            print_synthesis(result["synthesis"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
