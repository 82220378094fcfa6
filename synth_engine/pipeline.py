"""The offline build: load → validate → aggregate → synthesize → evaluate → write.

    python -m synth_engine build --input FILE.csv --out STORE.duckdb [--seed N] [--synthesizer default|sds]
        [--private-report FILE.json] [--name NAME] [--demonstration] [privacy flags: --epsilon, --delta,
        --reporting-length, ...]

Each stage is a function of its own (`load`, `validate`, `aggregate`, `synthesize`, `evaluate`,
`write`) so it can be run and tested alone; `run_build` chains them, shows a progress bar per
stage on stderr and prints a summary at the end.

Only the aggregate stage reads the sensitive records. The synthesize stage sees the protected
aggregates alone; the public quality figures compare the synthetic records with the protected
aggregates. Figures that compare anything with the sensitive records go to the --private-report
file only, never into the store.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from synth_engine import __version__
from data.dataset import Dataset, InputError, ItemSpace, load_csv

# --- stages -----------------------------------------------------------------------------------

def load(path: str, codebook_file=None) -> Dataset:
    """The records of the input CSV (load_csv also checks the file and builds the codebook,
    from the release's codebook file when one is given)."""
    return load_csv(path, codebook_file=codebook_file)


def validate(dataset: Dataset, reporting_length: int) -> None:
    """Checks that the records can go through the build; raises InputError saying why not."""
    if dataset.n_records < 1:
        raise InputError("the input holds no records")
    if len(dataset.codebook) == 0:
        raise InputError("the input holds no attributes")
    if not (dataset.codes > 0).any():
        raise InputError("every value of the input is missing: there is nothing to release")
    if reporting_length < 1:
        raise InputError(f"reporting length must be at least 1 (got {reporting_length})")
    if reporting_length > len(dataset.codebook):
        raise InputError(f"reporting length {reporting_length} is longer than the number of "
                         f"attributes ({len(dataset.codebook)})")
    from synth_engine.evaluate import key_base

    items = ItemSpace(dataset.codebook)
    try:
        key_base(items, reporting_length)       # a combination's key must fit in 64 bits
    except ValueError:
        raise InputError(f"{items.n_items:,} distinct values are too many for combinations of length "
                         f"{reporting_length}: use a shorter reporting length") from None


def aggregate(dataset: Dataset, args: argparse.Namespace, rng: np.random.Generator):
    """The differentially private aggregates (the privacy core)."""
    from synth_engine import privacy

    params = privacy.privacy_parameters_from_args(args, dataset.n_records)
    return privacy.aggregate(dataset, params, rng)


def synthesize(aggregates, synthesizer: str, rng: np.random.Generator, progress=None):
    """Synthetic records from the protected aggregates only."""
    from synth_engine.synthesize import synthesize as run

    return run(aggregates, synthesizer, rng, progress=progress)


def evaluate(synthetic_codes: np.ndarray, aggregates, sensitive: Dataset | None = None):
    """Public quality (synthetic vs protected) and, with the sensitive records, the private figures."""
    from synth_engine.evaluate import evaluate as run

    return run(synthetic_codes, aggregates, None if sensitive is None else sensitive.codes)


def write(out: str, records: Dataset, release, aggregates, quality) -> None:
    """The store, written atomically (an interrupted write leaves the old store)."""
    from data.writer import write_store

    write_store(out, records, release, aggregates, quality)


def make_release(args: argparse.Namespace, aggregates, synthesis, seed: int | None, codebook_file=None):
    """The release's public metadata (the metadata flags override the codebook file's)."""
    from data.release_meta import ReleaseMetadata
    from data.writer import Release
    from synth_engine.release_args import metadata_from_args

    parameters = dict(aggregates.parameters)
    parameters["synthesizer"] = synthesis.synthesizer
    parameters["synthesizer_settings"] = synthesis.settings
    source = os.path.basename(args.input)
    described = codebook_file.release if codebook_file else ReleaseMetadata()
    metadata = described.overridden_by(metadata_from_args(args))
    return Release(
        name=args.name or metadata.title or os.path.splitext(source)[0],
        kind="built",
        source=source,
        is_demonstration=bool(args.demonstration),
        engine_version=__version__,
        epsilon=_as_float(aggregates.parameters.get("epsilon")),
        delta=_as_float(aggregates.parameters.get("delta")),
        reporting_length=aggregates.reporting_length,
        protected_record_count=int(aggregates.record_count),
        synthesizer=synthesis.synthesizer,
        seed=seed,
        lengths=list(aggregates.lengths),
        parameters=parameters,
        metadata=metadata,
    )


def _as_float(value):
    return None if value is None else float(value)


def make_rng(seed: int | None) -> np.random.Generator:
    """The build's one random generator: seeded when the data owner gives a seed, else from
    the operating system's entropy (and then no seed is recorded)."""
    if seed is None:
        return np.random.default_rng(secrets.randbits(128))
    return np.random.default_rng(seed)


# --- command line -----------------------------------------------------------------------------

def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    from synth_engine import privacy
    from synth_engine.synthesize import SYNTHESIZERS

    parser.add_argument("--input", required=True, help="the sensitive records (CSV)")
    parser.add_argument("--out", required=True, help="the store to write (DuckDB file)")
    parser.add_argument("--seed", type=int, default=None,
                        help="make the build reproducible (recorded in the store); default: random")
    parser.add_argument("--synthesizer", choices=SYNTHESIZERS, default="default",
                        help="default: the project's; sds: Synthetic Data Showcase's aggregate-seeded sampler")
    parser.add_argument("--private-report", metavar="FILE.json", default=None,
                        help="also write figures computed from the sensitive records (not "
                             "differentially private: keep it to yourself)")
    parser.add_argument("--name", default=None, help="the release's name (default: the input's file name)")
    parser.add_argument("--demonstration", action="store_true", help="label the release as demonstration data")
    from synth_engine.release_args import add_release_arguments
    add_release_arguments(parser)
    privacy.add_privacy_arguments(parser)


@dataclass
class BuildResult:
    release: object
    aggregates: object
    synthesis: object
    evaluation: object
    timings: dict = field(default_factory=dict)


PROGRESS_ENVIRONMENT = "GSD_PROGRESS"   # "1": progress bars even when stderr is not a terminal


class _Stages:
    """One tqdm bar per stage on stderr (when it is a terminal, or GSD_PROGRESS=1), and the time
    each stage took."""

    def __init__(self, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        if enabled is None:
            forced = os.environ.get(PROGRESS_ENVIRONMENT) == "1"
            enabled = forced or bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.timings: dict[str, float] = {}

    def run(self, name: str, function, *args, with_progress: bool = False, **kwargs):
        from tqdm import tqdm

        start = time.perf_counter()
        bar = tqdm(total=100, desc=f"{name:<10}", file=self.stream, disable=not self.enabled, leave=True,
                   bar_format="{desc} {percentage:3.0f}%|{bar:30}| {elapsed}")
        try:
            if with_progress:
                result = function(*args, progress=bar.update, **kwargs)
            else:
                result = function(*args, **kwargs)
            bar.update(bar.total - bar.n)
        finally:
            bar.close()
            self.timings[name] = time.perf_counter() - start
        return result


def build(args: argparse.Namespace, show_progress: bool | None = None) -> BuildResult:
    """Run every stage; nothing is written unless every stage succeeds."""
    from data.codebook_file import read_codebook_file
    from synth_engine import privacy
    from synth_engine.release_args import metadata_from_args

    privacy.privacy_parameters_from_args(args, 1)      # bad flags fail before any work
    metadata_from_args(args)
    codebook_file = read_codebook_file(args.codebook) if args.codebook else None
    stages = _Stages(enabled=show_progress)
    rng = make_rng(args.seed)
    dataset = stages.run("load", load, args.input, codebook_file)
    for line in dataset.load_warnings:
        print(f"warning: {line}", file=sys.stderr)
    stages.run("validate", validate, dataset, args.reporting_length)
    aggregates = stages.run("aggregate", aggregate, dataset, args, rng)
    synthesis = stages.run("synthesize", synthesize, aggregates, args.synthesizer, rng, with_progress=True)
    synthetic = Dataset(dataset.codebook, synthesis.codes, dataset.source_name)
    wants_private = bool(getattr(args, "private_report", None))
    evaluation = stages.run("evaluate", evaluate, synthesis.codes, aggregates, dataset if wants_private else None)
    release = make_release(args, aggregates, synthesis, args.seed, codebook_file)
    stages.run("write", write, args.out, synthetic, release, aggregates, evaluation.quality)
    if wants_private:
        from synth_engine.evaluate import write_private_report

        write_private_report(args.private_report, _private_report(args, evaluation, aggregates, synthesis))
    return BuildResult(release, aggregates, synthesis, evaluation, stages.timings)


def _private_report(args, evaluation, aggregates, synthesis) -> dict:
    return {
        "warning": "computed from the sensitive records: not differentially private, do not publish",
        "input": os.path.basename(args.input),
        "synthesizer": synthesis.synthesizer,
        "protected_record_count": int(aggregates.record_count),
        "synthetic_record_count": int(len(synthesis.codes)),
        **evaluation.private,
        "synthetic_vs_protected": evaluation.public,
    }


def summary(result: BuildResult) -> str:
    """What the build did, in a few lines (public figures only)."""
    public = result.evaluation.public
    lines = [f"built {result.release.name!r}: {len(result.synthesis.codes):,} synthetic records "
             f"(protected record count {result.aggregates.record_count:,}), synthesizer {result.release.synthesizer}"]
    lengths = ", ".join(f"length {k}: {len(c):,}" for k, c in sorted(result.aggregates.combos.items()))
    lines.append(f"protected combinations: {lengths}")
    lines.append("timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
                 + f" (total {sum(result.timings.values()):.1f} s)")
    for k, f in sorted(public["lengths"].items()):
        lines.append(f"length {k}: mean relative error {f['mean_relative_error']:.4f} "
                     f"(over {f['relative_error_combinations']:,} combinations with protected count >= 10), "
                     f"mean absolute error {f['mean_absolute_error']:.2f}, suppressed {f['suppressed_pct']:.2f} %, "
                     f"fabricated {f['fabricated_pct']:.2f} %")
    lines.append(f"record expansion {public['records']['record_expansion_pct']:+.2f} %, "
                 f"{public['overall']['retained_pct']:.2f} % of the protected combinations retained")
    return "\n".join(lines)


def run_build(args: argparse.Namespace) -> None:
    for path, what in ((args.out, "--out"), (getattr(args, "private_report", None), "--private-report")):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise InputError(f"{path}: the folder of {what} does not exist")
    if args.private_report and os.path.abspath(args.private_report) == os.path.abspath(args.out):
        raise InputError("--private-report and --out name the same file")
    result = build(args)
    print(summary(result), file=sys.stderr)
    if getattr(args, "private_report", None):
        print(f"private report (not differentially private) written to {args.private_report}", file=sys.stderr)
