"""Command line of the engine: `gsd-engine COMMAND ...` or `python -m synth_engine COMMAND ...`
(see README.md).

The only module that knows about flags: each command's flags are parsed here and turned into the
plain arguments and settings objects (dataclasses) the engine's functions take.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from dataclasses import fields

from data.aggregates import write_aggregates_rows
from data.dataset import InputError
from data.release_meta import ReleaseMetadata
from data.store import FilterError, Store, StoreError
from data.writer import StoreWriteError
from synth_engine import pipeline
from synth_engine.demo_source import REFERENCE_ROWS, write_demo_source
from synth_engine.importer import import_release
from synth_engine.info import format_info, store_info
from synth_engine.privacy import ACCURACY_MODES, FABRICATION_MODES, PrivacySettings
from synth_engine.synthesize import SYNTHESIZERS

# --- commands --------------------------------------------------------------------------------------


def _demo_source(args) -> None:
    write_demo_source(args.out, rows=args.rows, seed=args.seed)
    print(f"wrote {args.rows:,} demonstration records to {args.out}", file=sys.stderr)


def _import_release(args) -> None:
    release = import_release(
        args.microdata,
        args.out,
        aggregates=args.aggregates,
        name=args.name,
        demonstration=args.demonstration,
        epsilon=args.epsilon,
        delta=args.delta,
        codebook=args.codebook,
        metadata=release_metadata(args),
        warn=_warn,
    )
    print(f"imported {release.name} into {args.out}", file=sys.stderr)


def _warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


def _export_aggregates(args) -> None:
    store = Store(args.store)
    if not store.release["has_aggregates"]:
        raise InputError(f"{args.store} holds no protected aggregates")
    write_aggregates_rows(args.out, store.release["protected_record_count"], store.aggregate_rows())
    print(f"wrote the protected aggregates of {store.release['name']} to {args.out}", file=sys.stderr)


def _info(args) -> None:
    info = store_info(args.store)
    print(json.dumps(info, default=str, sort_keys=True) if args.json else format_info(info))


def _build(args) -> None:
    settings = build_settings(args)
    result = pipeline.build(settings, warn=_warn)
    print(pipeline.summary(result), file=sys.stderr)
    if settings.private_report:
        print(f"private report (not differentially private) written to {settings.private_report}", file=sys.stderr)


# --- flags of `build` and the settings they make --------------------------------------------------


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="the sensitive records (CSV)")
    parser.add_argument("--out", required=True, help="the store to write (DuckDB file)")
    parser.add_argument(
        "--seed", type=int, default=None, help="make the build reproducible (recorded in the store); default: random"
    )
    parser.add_argument(
        "--synthesizer",
        choices=SYNTHESIZERS,
        default="default",
        help="default: the project's; sds: Synthetic Data Showcase's aggregate-seeded sampler",
    )
    parser.add_argument(
        "--private-report",
        metavar="FILE.json",
        default=None,
        help="also write figures computed from the sensitive records (not differentially private: keep it to yourself)",
    )
    parser.add_argument("--name", default=None, help="the release's name (default: the input's file name)")
    parser.add_argument("--demonstration", action="store_true", help="label the release as demonstration data")
    add_release_arguments(parser)
    add_privacy_arguments(parser)


def build_settings(args: argparse.Namespace) -> pipeline.BuildSettings:
    """The settings of a build from the parsed `build` flags: each field of BuildSettings from the flag
    of the same name, the metadata and privacy flags through their own functions (bad ones fail here)."""
    grouped = {"metadata": release_metadata(args), "privacy": privacy_settings(args)}
    given = {f.name: getattr(args, f.name) for f in fields(pipeline.BuildSettings) if f.name not in grouped}
    return pipeline.BuildSettings(**given, **grouped)


# --- flags of `build` and `import-release`: the codebook file and what the release says about itself

_METADATA_FLAGS = (
    ("title", "the release's title (shown in the header)"),
    ("publisher", "who publishes the release"),
    ("source-url", "where the release is published (http or https address)"),
    ("licence", "the release's licence, e.g. CC-BY-4.0"),
    ("citation", "how to cite the release"),
    ("release-date", "the release's date, YYYY-MM-DD"),
    ("release-version", "the release's version"),
)


def add_release_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--codebook",
        metavar="DATAPACKAGE.json",
        default=None,
        help="the release's codebook (a Data Package descriptor); without one, kinds, "
        "order and labels come from the built-in CTDC codebook where the values fit "
        "it, else from the values",
    )
    for flag, text in _METADATA_FLAGS:
        parser.add_argument(f"--{flag}", default=None, help=f"{text} (overrides the codebook file's)")


def release_metadata(args: argparse.Namespace) -> ReleaseMetadata:
    """The metadata flags given (InputError when one is malformed)."""
    return ReleaseMetadata(
        title=args.title,
        publisher=args.publisher,
        source_url=args.source_url,
        licence=args.licence,
        citation=args.citation,
        release_date=args.release_date,
        version=args.release_version,
    )


def add_privacy_arguments(parser: argparse.ArgumentParser) -> None:
    """The privacy flags of `build`; their defaults are PrivacySettings' (SDS's, with ε = 12)."""
    default = PrivacySettings()
    group = parser.add_argument_group("privacy", "differentially private aggregates (Synthetic Data Showcase's method)")
    group.add_argument(
        "--epsilon", type=float, default=default.epsilon, help=f"privacy budget ε (default {default.epsilon:g})"
    )
    group.add_argument(
        "--delta", type=float, default=default.delta, help="δ (default 1/(n·ln n), n the protected record count)"
    )
    group.add_argument(
        "--reporting-length",
        type=int,
        default=default.reporting_length,
        help=f"longest combination counted and released (default {default.reporting_length})",
    )
    group.add_argument(
        "--percentile-percentage",
        type=int,
        default=default.percentile_percentage,
        help=f"percentile of records' contributions allowed per length (default {default.percentile_percentage})",
    )
    group.add_argument(
        "--percentile-epsilon-proportion",
        type=float,
        default=default.percentile_epsilon_proportion,
        help=f"share of the budget spent on those percentiles (default {default.percentile_epsilon_proportion:g})",
    )
    group.add_argument(
        "--number-of-records-epsilon-proportion",
        type=float,
        default=default.number_of_records_epsilon_proportion,
        help=f"share of ε spent on the record count (default {default.number_of_records_epsilon_proportion:g})",
    )
    group.add_argument(
        "--accuracy-mode",
        choices=ACCURACY_MODES[:-1],
        default=None,
        help=f"how noise is split across lengths (default {default.accuracy_mode})",
    )
    group.add_argument(
        "--sigma-proportions",
        default=None,
        metavar="P1,P2,...",
        help="custom split instead of an accuracy mode: one proportion per length 1..R",
    )
    group.add_argument(
        "--fabrication-mode",
        choices=FABRICATION_MODES[:-1],
        default=None,
        help=f"how much noise-made combinations are let through (default {default.fabrication_mode})",
    )
    group.add_argument(
        "--thresholds",
        default=None,
        metavar="T2,T3,...",
        help="custom fixed thresholds instead of a fabrication mode: one per length 2..R",
    )


def privacy_settings(args: argparse.Namespace) -> PrivacySettings:
    """PrivacySettings from the parsed privacy flags (a mode flag, or the custom values it stands for)."""
    if args.sigma_proportions is not None and args.accuracy_mode is not None:
        raise InputError("give either --accuracy-mode or --sigma-proportions, not both")
    if args.thresholds is not None and args.fabrication_mode is not None:
        raise InputError("give either --fabrication-mode or --thresholds, not both")
    default = PrivacySettings()
    sigma_proportions = _number_list(args.sigma_proportions, "--sigma-proportions")
    thresholds = _number_list(args.thresholds, "--thresholds")
    return PrivacySettings(
        epsilon=args.epsilon,
        delta=args.delta,
        reporting_length=args.reporting_length,
        percentile_percentage=args.percentile_percentage,
        percentile_epsilon_proportion=args.percentile_epsilon_proportion,
        number_of_records_epsilon_proportion=args.number_of_records_epsilon_proportion,
        accuracy_mode="custom" if sigma_proportions is not None else (args.accuracy_mode or default.accuracy_mode),
        sigma_proportions=sigma_proportions,
        fabrication_mode="custom" if thresholds is not None else (args.fabrication_mode or default.fabrication_mode),
        thresholds=thresholds,
    )


def _number_list(text: str | None, flag: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise InputError(f"{flag} takes numbers separated by commas (got {text!r})") from None
    if not values or any(math.isnan(v) for v in values):
        raise InputError(f"{flag} takes numbers separated by commas (got {text!r})")
    return values


# --- the parser and the entry point ---------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    # Usage lines name the command as it was typed: the console script or `python -m`.
    launched_as_module = os.path.basename(sys.argv[0]) == "__main__.py"
    prog = "python -m synth_engine" if launched_as_module else "gsd-engine"
    main = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo-source", help="write stand-in sensitive records (not real people) as CSV")
    p.add_argument("--out", required=True)
    p.add_argument("--rows", type=int, default=REFERENCE_ROWS)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_demo_source)

    p = commands.add_parser("build", help="build a store from sensitive records (differentially private)")
    add_build_arguments(p)
    p.set_defaults(run=_build)

    p = commands.add_parser("import-release", help="load a published release into a store")
    p.add_argument("--microdata", required=True, help="the synthetic records CSV")
    p.add_argument("--aggregates", help="Synthetic Data Showcase aggregates file (TSV)")
    p.add_argument("--out", required=True)
    p.add_argument("--name", help="the release's name (default: the microdata file's name)")
    p.add_argument("--epsilon", type=float, help="the release's ε, when published")
    p.add_argument("--delta", type=float, help="the release's δ, when published")
    p.add_argument("--demonstration", action="store_true", help="label the release as demonstration data")
    add_release_arguments(p)
    p.set_defaults(run=_import_release)

    p = commands.add_parser("export-aggregates", help="write a store's protected aggregates in SDS's format")
    p.add_argument("--store", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(run=_export_aggregates)

    p = commands.add_parser("info", help="print a store's release metadata, sizes and quality")
    p.add_argument("--store", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_info)
    return main


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    # A terminated build unwinds like Ctrl-C, so the writer removes its temporary file.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        args.run(args)
    except (InputError, StoreError, StoreWriteError, FilterError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
