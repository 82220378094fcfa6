"""Varied sensitive inputs for the synthesizer's tests and benchmarks (not the demonstration source).

    python bench/inputs.py --out FILE.csv [--rows 250000] [--seed 1] [--flags 30] [--countries 120]

The records come from a latent-class model so that columns depend on one another, and hold the
shapes that broke fits tuned on the demonstration source alone:

* complete columns (no missing value): `sex`, `cohort`, `region` and `source`;
* two country columns with a long tail (Zipf-like shares over `--countries` values), the second
  often equal to the first (citizenship and country of exploitation);
* categorical columns with missing values (`stage`, `channel`, `duration`, `language`, ...);
* `--flags` sparse flags (value "1" or empty), most below 5 %;
* planted implications: `subtypeA` only with `flagA`, and `sector` (a column with 8 values) only
  with `labour`; `routeX` only with `flagA`.

Seeded: the same arguments give the same file.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

CLASSES = 8


def _zipf_shares(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    shares = 1.0 / np.arange(1, n + 1) ** exponent
    return rng.permutation(shares / shares.sum())


def _categorical(latent, values: list[str], concentration: float, rng, missing: float = 0.0):
    """A column whose distribution depends on the latent class; `missing` of the cells empty."""
    table = rng.dirichlet(np.full(len(values), concentration), size=CLASSES)
    u = rng.random(len(latent))
    picks = (table[latent].cumsum(axis=1) < u[:, None]).sum(axis=1)
    cells = np.asarray(values, dtype=object)[np.minimum(picks, len(values) - 1)]
    cells[rng.random(len(latent)) < missing] = ""
    return cells


def _flag(latent, rate: float, rng):
    lift = rng.lognormal(0.0, 1.0, size=CLASSES)
    p = np.minimum(rate * lift / lift.mean(), 0.95)[latent]
    return np.where(rng.random(len(latent)) < p, "1", "")


def _country(latent, names: list[str], rng, missing: float):
    """A long-tailed country column: each class mixes a shared Zipf law with its own favourites."""
    shared = _zipf_shares(len(names), 1.1, rng)
    rows = []
    for _ in range(CLASSES):
        own = _zipf_shares(len(names), 1.6, rng)
        rows.append(0.6 * shared + 0.4 * own)
    table = np.vstack(rows)
    u = rng.random(len(latent))
    picks = (table[latent].cumsum(axis=1) < u[:, None]).sum(axis=1)
    cells = np.asarray(names, dtype=object)[np.minimum(picks, len(names) - 1)]
    cells[rng.random(len(latent)) < missing] = ""
    return cells


def varied_frame(rows: int, seed: int = 1, flags: int = 30, countries: int = 120) -> pd.DataFrame:
    """The records (strings, '' = not recorded), columns in a fixed order."""
    rng = np.random.default_rng(seed)
    latent = rng.choice(CLASSES, size=rows, p=rng.dirichlet(np.full(CLASSES, 2.0)))
    names = [f"K{i:03d}" for i in range(countries)]
    columns = {
        "sex": _categorical(latent, ["female", "male", "other"], 1.0, rng),
        "cohort": _categorical(latent, [f"y{y}" for y in range(2002, 2022)], 0.7, rng),
        "region": _categorical(latent, ["north", "south", "east", "west", "centre"], 1.0, rng),
        "stage": _categorical(latent, ["child", "youth", "adult", "older"], 1.0, rng, missing=0.35),
        "channel": _categorical(latent, ["online", "agency", "family", "friend", "other"], 0.8, rng, missing=0.6),
        "duration": _categorical(latent, ["short", "months", "year", "years"], 1.0, rng, missing=0.7),
        "language": _categorical(latent, [f"lang{i}" for i in range(12)], 0.5, rng, missing=0.5),
        "outcome": _categorical(latent, ["open", "closed", "referred"], 1.0, rng, missing=0.5),
        "contact": _categorical(latent, ["police", "ngo", "self", "other"], 1.0, rng, missing=0.8),
        "source": _categorical(latent, ["hotline", "case", "survey"], 1.0, rng),
        "support": _categorical(latent, ["none", "shelter", "legal", "medical", "cash"], 0.8, rng, missing=0.4),
        "origin": _country(latent, names, rng, missing=0.1),
    }
    destination = _country(latent, names, rng, missing=0.25)
    same = rng.random(rows) < 0.4
    destination[same] = columns["origin"][same]
    columns["destination"] = destination
    labour = _flag(latent, 0.3, rng)
    columns["labour"] = labour
    columns["sector"] = np.where(
        labour == "1", _categorical(latent, [f"s{i}" for i in range(8)], 0.6, rng, missing=0.3), ""
    )
    flag_a = _flag(latent, 0.25, rng)
    columns["flagA"] = flag_a
    columns["subtypeA"] = np.where((flag_a == "1") & (rng.random(rows) < 0.55), "1", "")
    columns["routeX"] = np.where((flag_a == "1") & (rng.random(rows) < 0.12), "1", "")
    for i in range(max(flags - 3, 0)):
        rate = float(rng.choice([0.002, 0.01, 0.02, 0.04, 0.08, 0.15]))
        columns[f"flag{i:02d}"] = _flag(latent, rate, rng)
    return pd.DataFrame(columns)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--flags", type=int, default=30)
    parser.add_argument("--countries", type=int, default=120)
    args = parser.parse_args(argv)
    frame = varied_frame(args.rows, args.seed, args.flags, args.countries)
    frame.to_csv(args.out, index=False)
    print(f"{args.out}: {len(frame):,} records x {frame.shape[1]} columns")


if __name__ == "__main__":
    main()
