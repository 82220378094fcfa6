"""The offline build: load → validate → aggregate → synthesize → evaluate → write.

Each stage is a function of its own (`load`, `validate`, `aggregate`, `synthesize`, `evaluate`,
`write`) so it can be run and tested alone; `build` chains them as a `BuildSettings` asks, shows a
progress bar per stage on stderr, and `summary` says what was done. The command line
(`gsd-engine build`, see __main__.py) only turns its flags into a `BuildSettings`.

Only the aggregate stage reads the sensitive records. The synthesize stage sees the protected
aggregates alone; the public quality figures compare the synthetic records with the protected
aggregates. Figures that compare anything with the sensitive records go to the private report
file only, never into the store.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from data.codebook_file import CodebookFile, read_codebook_file
from data.dataset import Dataset, InputError, ItemSpace, load_csv
from data.release_meta import ReleaseMetadata
from data.writer import Release, write_store
from synth_engine import __version__
from synth_engine.evaluate import evaluate as evaluate_synthesis
from synth_engine.evaluate import key_base, summary_lines, write_private_report
from synth_engine.privacy import PrivacySettings
from synth_engine.privacy import aggregate as protect
from synth_engine.synthesize import synthesize as synthesize_records


@dataclass(frozen=True)
class BuildSettings:
    """What one build is asked to do. Every field but the two paths has a default, so a new
    option is one more field with its default (and, on the command line, the flag of the same
    name in __main__.py)."""

    input: str  # the sensitive records (CSV)
    out: str  # the store to write (DuckDB file)
    seed: int | None = None  # None: a random build, no seed recorded
    synthesizer: str = "default"
    private_report: str | None = None  # figures from the sensitive records (JSON), not DP
    name: str | None = None  # the release's name; default: its title, else the input's name
    demonstration: bool = False
    codebook: str | None = None  # the release's codebook file (Data Package descriptor)
    metadata: ReleaseMetadata = field(default_factory=ReleaseMetadata)  # overrides the codebook file's
    privacy: PrivacySettings = field(default_factory=PrivacySettings)


# --- stages -----------------------------------------------------------------------------------


def load(path: str, codebook_file: CodebookFile | None = None) -> Dataset:
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
        raise InputError(
            f"reporting length {reporting_length} is longer than the number of attributes ({len(dataset.codebook)})"
        )
    items = ItemSpace(dataset.codebook)
    try:
        key_base(items, reporting_length)  # a combination's key must fit in 64 bits
    except ValueError:
        raise InputError(
            f"{items.n_items:,} distinct values are too many for combinations of length "
            f"{reporting_length}: use a shorter reporting length"
        ) from None


def aggregate(dataset: Dataset, settings: PrivacySettings, rng: np.random.Generator):
    """The differentially private aggregates (the privacy core)."""
    return protect(dataset, settings, rng)


def synthesize(aggregates, synthesizer: str, rng: np.random.Generator, progress=None):
    """Synthetic records from the protected aggregates only."""
    return synthesize_records(aggregates, synthesizer, rng, progress=progress)


def evaluate(synthetic_codes: np.ndarray, aggregates, sensitive: Dataset | None = None):
    """Public quality (synthetic vs protected) and, with the sensitive records, the private figures."""
    return evaluate_synthesis(synthetic_codes, aggregates, None if sensitive is None else sensitive.codes)


def write(out: str, records: Dataset, release, aggregates, evaluation) -> None:
    """The store, written atomically (an interrupted write leaves the old store)."""
    write_store(out, records, release, aggregates, evaluation.quality, evaluation.deviations)


def make_release(settings: BuildSettings, aggregates, synthesis, codebook_file: CodebookFile | None = None) -> Release:
    """The release's public metadata (the settings' metadata override the codebook file's)."""
    parameters = dict(aggregates.parameters)
    parameters["synthesizer"] = synthesis.synthesizer
    parameters["synthesizer_settings"] = synthesis.settings
    source = os.path.basename(settings.input)
    described = codebook_file.release if codebook_file else ReleaseMetadata()
    metadata = described.overridden_by(settings.metadata)
    return Release(
        name=settings.name or metadata.title or os.path.splitext(source)[0],
        kind="built",
        source=source,
        is_demonstration=bool(settings.demonstration),
        engine_version=__version__,
        epsilon=_as_float(aggregates.parameters.get("epsilon")),
        delta=_as_float(aggregates.parameters.get("delta")),
        reporting_length=aggregates.reporting_length,
        protected_record_count=int(aggregates.record_count),
        synthesizer=synthesis.synthesizer,
        seed=settings.seed,
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


@dataclass
class BuildResult:
    release: object
    aggregates: object
    synthesis: object
    evaluation: object
    timings: dict = field(default_factory=dict)


PROGRESS_ENVIRONMENT = "GSD_PROGRESS"  # "1": progress bars even when stderr is not a terminal


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
        start = time.perf_counter()
        bar = tqdm(
            total=100,
            desc=f"{name:<10}",
            file=self.stream,
            disable=not self.enabled,
            leave=True,
            bar_format="{desc} {percentage:3.0f}%|{bar:30}| {elapsed}",
        )
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


def check_outputs(settings: BuildSettings) -> None:
    """Fails before any work when the store or the private report could not be written."""
    for path, what in ((settings.out, "the store to write"), (settings.private_report, "the private report")):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise InputError(f"{path}: the folder of {what} does not exist")
    if settings.private_report and os.path.abspath(settings.private_report) == os.path.abspath(settings.out):
        raise InputError("the private report and the store to write name the same file")


def build(
    settings: BuildSettings, show_progress: bool | None = None, warn: Callable[[str], None] | None = None
) -> BuildResult:
    """Run every stage; nothing is written unless every stage succeeds. `warn` gets one line per
    column that did not fit the built-in codebook."""
    check_outputs(settings)
    codebook_file = read_codebook_file(settings.codebook) if settings.codebook else None
    stages = _Stages(enabled=show_progress)
    rng = make_rng(settings.seed)
    dataset = stages.run("load", load, settings.input, codebook_file)
    if warn is not None:
        for line in dataset.load_warnings:
            warn(line)
    stages.run("validate", validate, dataset, settings.privacy.reporting_length)
    aggregates = stages.run("aggregate", aggregate, dataset, settings.privacy, rng)
    synthesis = stages.run("synthesize", synthesize, aggregates, settings.synthesizer, rng, with_progress=True)
    synthetic = Dataset(dataset.codebook, synthesis.codes, dataset.source_name)
    wants_private = bool(settings.private_report)
    evaluation = stages.run("evaluate", evaluate, synthesis.codes, aggregates, dataset if wants_private else None)
    release = make_release(settings, aggregates, synthesis, codebook_file)
    stages.run("write", write, settings.out, synthetic, release, aggregates, evaluation)
    if wants_private:
        write_private_report(settings.private_report, _private_report(settings, evaluation, aggregates, synthesis))
    return BuildResult(release, aggregates, synthesis, evaluation, stages.timings)


def _private_report(settings: BuildSettings, evaluation, aggregates, synthesis) -> dict:
    return {
        "warning": "computed from the sensitive records: not differentially private, do not publish",
        "input": os.path.basename(settings.input),
        "synthesizer": synthesis.synthesizer,
        "protected_record_count": int(aggregates.record_count),
        "synthetic_record_count": int(len(synthesis.codes)),
        **evaluation.private,
        "synthetic_vs_protected": evaluation.public,
    }


def summary(result: BuildResult) -> str:
    """What the build did, in a few lines (public figures only)."""
    public = result.evaluation.public
    lines = [
        f"built {result.release.name!r}: {len(result.synthesis.codes):,} synthetic records "
        f"(protected record count {result.aggregates.record_count:,}), synthesizer {result.release.synthesizer}"
    ]
    lengths = ", ".join(f"length {k}: {len(c):,}" for k, c in sorted(result.aggregates.combos.items()))
    lines.append(f"protected combinations: {lengths}")
    lines.append(
        "timings: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
        + f" (total {sum(result.timings.values()):.1f} s)"
    )
    lines += summary_lines(public)
    return "\n".join(lines)
