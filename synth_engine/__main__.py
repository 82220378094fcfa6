"""Command line of the engine: `python -m synth_engine COMMAND ...` (see README.md)."""
from __future__ import annotations

import argparse
import json
import signal
import sys

from data.dataset import InputError


def _demo_source(args) -> None:
    from synth_engine.demo_source import write_demo_source

    write_demo_source(args.out, rows=args.rows, seed=args.seed)
    print(f"wrote {args.rows:,} demonstration records to {args.out}", file=sys.stderr)


def _import_release(args) -> None:
    from synth_engine.importer import import_release
    from synth_engine.release_args import metadata_from_args

    release = import_release(args.microdata, args.out, aggregates=args.aggregates, name=args.name,
                             demonstration=args.demonstration, epsilon=args.epsilon, delta=args.delta,
                             codebook=args.codebook, metadata=metadata_from_args(args), warn=_warn)
    print(f"imported {release.name} into {args.out}", file=sys.stderr)


def _warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


def _export_aggregates(args) -> None:
    from data.store import Store
    from data.aggregates import write_aggregates_rows

    store = Store(args.store)
    if not store.release["has_aggregates"]:
        raise InputError(f"{args.store} holds no protected aggregates")
    write_aggregates_rows(args.out, store.release["protected_record_count"], store.aggregate_rows())
    print(f"wrote the protected aggregates of {store.release['name']} to {args.out}", file=sys.stderr)


def _info(args) -> None:
    from synth_engine.info import store_info, format_info

    info = store_info(args.store)
    print(json.dumps(info, default=str, sort_keys=True) if args.json else format_info(info))


def _build(args) -> None:
    from synth_engine.pipeline import run_build

    run_build(args)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m synth_engine", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo-source", help="write stand-in sensitive records (not real people) as CSV")
    p.add_argument("--out", required=True)
    p.add_argument("--rows", type=int, default=257969)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_demo_source)

    p = commands.add_parser("build", help="build a store from sensitive records (differentially private)")
    from synth_engine.pipeline import add_build_arguments
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
    from synth_engine.release_args import add_release_arguments
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
    from data.store import FilterError, StoreError
    from data.writer import StoreWriteError

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
