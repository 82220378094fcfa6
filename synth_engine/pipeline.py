"""Placeholder until the build pipeline lands (owned by the synthesis work)."""


def add_build_arguments(parser) -> None:
    parser.add_argument("--input", required=True)
    parser.add_argument("--out", required=True)


def run_build(args) -> None:
    raise NotImplementedError("build is not available yet")
