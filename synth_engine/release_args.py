"""The command-line flags `build` and `import-release` share: the codebook file and what the
release says about itself (each flag overrides the codebook file's value)."""
from __future__ import annotations

import argparse

from data.release_meta import ReleaseMetadata

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
    parser.add_argument("--codebook", metavar="DATAPACKAGE.json", default=None,
                        help="the release's codebook (a Data Package descriptor); without one, kinds, "
                             "order and labels come from the built-in CTDC codebook where the values fit "
                             "it, else from the values")
    for flag, text in _METADATA_FLAGS:
        parser.add_argument(f"--{flag}", default=None, help=text)


def metadata_from_args(args: argparse.Namespace) -> ReleaseMetadata:
    """The metadata flags given (InputError when one is malformed)."""
    return ReleaseMetadata(title=args.title, publisher=args.publisher, source_url=args.source_url,
                           licence=args.licence, citation=args.citation, release_date=args.release_date,
                           version=args.release_version)
