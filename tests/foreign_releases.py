"""Releases of schemas other than CTDC's, made here for tests (import tests, and the tests of the
pages composed from the codebook). Each is a seeded, deterministic microdata CSV and,
on request, a protected aggregates file in Synthetic Data Showcase's format.

- `victim_perpetrator`: a victim's `gender` as Female/Male and `ageBroad` in bands 0-29/30+ (CTDC
  names with another value domain), `citizenship` (fits CTDC's), a region of origin and a region of
  exploitation (a movement), `perpetratorGender` holding ';'-separated values (one flag per value),
  `registrationPeriod` in year bands and `isForcedLabour` (fits CTDC's flag).
- `regions`: no CTDC name at all: `year`, `originRegion` → `destinationRegion`, `sector`, a flag
  `hasChildren` written 1, and `survivorAge` in numbered bands.
- `perpetrators`: decades as year bands, `typeOfExploitation` holding ';'-separated values, a flag
  `isAbduction` in no group, and the perpetrators' own country (`perpetratorNationality`),
  relation to the survivor and gender (';'-separated): a second party with a map, bars and a group.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd

REGIONS = ("Africa", "Americas", "Asia", "Europe", "Oceania")
SCHEMAS = ("victim_perpetrator", "regions", "perpetrators")


def _pick(rng, values, n, missing=0.1, weights=None):
    chosen = rng.choice(np.array(values, dtype=object), size=n, p=weights)
    return np.where(rng.random(n) < missing, "", chosen)


def victim_perpetrator(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    perpetrators = ["Female", "Male", "Female;Male", "Male;Unknown"]
    return pd.DataFrame(
        {
            "gender": _pick(rng, ["Female", "Male"], rows),
            "ageBroad": _pick(rng, ["0-29", "30+"], rows),
            "citizenship": _pick(rng, ["UKR", "PHL", "NGA", "MEX"], rows, 0.2),
            "regionOfOrigin": _pick(rng, REGIONS, rows),
            "regionOfExploitation": _pick(rng, REGIONS, rows),
            "perpetratorGender": _pick(rng, perpetrators, rows, 0.3),
            "registrationPeriod": _pick(rng, ["2015-2019", "2010-2014", "2020-2024"], rows),
            "isForcedLabour": _pick(rng, ["1"], rows, 0.6),
        }
    )


def regions(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": _pick(rng, [str(y) for y in range(2018, 2024)], rows, 0.05),
            "originRegion": _pick(rng, REGIONS, rows),
            "destinationRegion": _pick(rng, REGIONS, rows),
            "sector": _pick(rng, ["Agriculture", "Domestic work", "Fishing", "Manufacturing"], rows),
            "hasChildren": _pick(rng, ["1"], rows, 0.7),
            "survivorAge": _pick(rng, ["18-24", "25-34", "35-49", "50+", "0-17"], rows),
        }
    )


def perpetrators(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "yearBand": _pick(rng, ["2000-2009", "2010-2019", "2020-2024"], rows, 0.15),
            "gender": _pick(rng, ["Female", "Male"], rows),
            "citizenship": _pick(rng, ["UKR", "PHL", "NGA", "MEX"], rows, 0.2),
            "typeOfExploitation": _pick(
                rng, ["Forced labour", "Sexual exploitation", "Forced labour;Sexual exploitation"], rows, 0.2
            ),
            "isAbduction": _pick(rng, ["1"], rows, 0.8),
            "perpetratorGender": _pick(rng, ["Female", "Male", "Female;Male"], rows, 0.2),
            "perpetratorNationality": _pick(rng, ["RUS", "THA", "USA"], rows, 0.2),
            "perpetratorRelation": _pick(rng, ["Family", "Partner", "Stranger"], rows),
        }
    )


def expanded(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns as a store holds them: a ';'-separated column becomes one flag per value."""
    out = {}
    for name in frame.columns:
        cells = frame[name].astype(str)
        if cells.str.contains(";", regex=False).any():
            parts = cells.str.split(";")
            for value in sorted(set(itertools.chain.from_iterable(parts)) - {""}):
                out[f"{name}_{value}"] = parts.map(lambda ps, v=value: "1" if v in ps else "")
        else:
            out[name] = cells
    return pd.DataFrame(out)


def aggregates_text(frame: pd.DataFrame, rng: np.random.Generator, length: int = 2) -> str:
    """Counts of every combination of up to `length` items, with a little integer noise, in
    SDS's format (items sorted as text; combinations of 0 left out)."""
    store_columns = expanded(frame)
    lines = ["selections\tprotected_count", f"record_count\t{len(frame) + int(rng.integers(-3, 4))}"]
    names = list(store_columns.columns)
    for k in range(1, length + 1):
        for combo in itertools.combinations(names, k):
            present = store_columns[list(combo)]
            counts = present[(present != "").all(axis=1)].value_counts()
            for values, count in sorted(counts.items()):
                values = values if isinstance(values, tuple) else (values,)
                key = ";".join(sorted(f"{n}:{v}" for n, v in zip(combo, values)))
                lines.append(f"{key}\t{max(1, int(count) + int(rng.integers(-2, 3)))}")
    return "\n".join(lines) + "\n"


def write_release(
    folder, schema: str = "victim_perpetrator", rows: int = 400, seed: int = 0, with_aggregates: bool = False
) -> dict[str, str]:
    """Write `<schema>.csv` (and `<schema>-aggregates.tsv`) into `folder`; returns their paths."""
    if schema not in SCHEMAS:
        raise ValueError(f"unknown schema {schema!r}: one of {', '.join(SCHEMAS)}")
    rng = np.random.default_rng(seed)
    frame = globals()[schema](rows, rng)
    paths = {"microdata": os.path.join(os.fspath(folder), f"{schema}.csv")}
    frame.to_csv(paths["microdata"], index=False)
    if with_aggregates:
        paths["aggregates"] = os.path.join(os.fspath(folder), f"{schema}-aggregates.tsv")
        with open(paths["aggregates"], "w", encoding="utf-8") as fh:
            fh.write(aggregates_text(frame, rng))
    return paths
