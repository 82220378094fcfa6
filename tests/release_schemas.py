"""Microdata of release schemas other than CTDC's, for the tests of the pages composed from the
codebook: CTDC names with other value domains, year bands, regions, multi-value columns, another
party's attributes. Seeded and small; `write` makes the CSV (and on request a protected counts
file of the single-valued columns, length 1, in Synthetic Data Showcase's format)."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

SCHEMAS = {
    # whose records: survivors, with the perpetrators' attributes beside them
    "perpetrators": {
        "yearBand": ["2000-2009", "2010-2019", "2020-2024"],
        "gender": ["Female", "Male"],                      # CTDC's name, another domain
        "ageBroad": ["0-17", "18-34", "35+"],
        "citizenship": ["UKR", "PHL", "NGA", "MEX"],
        "typeOfExploitation": ["Forced labour", "Sexual exploitation", "Forced labour;Sexual exploitation"],
        "isAbduction": ["1"],
        "perpetratorGender": ["Female", "Male", "Female;Male"],
        "perpetratorNationality": ["RUS", "THA", "USA"],
        "perpetratorRelation": ["Family", "Partner", "Stranger"],
    },
    # no CTDC name at all: years, a movement between regions, a sector, durations in bands
    "regions": {
        "year": [str(y) for y in range(2015, 2023)],
        "regionOfOrigin": ["Africa", "Americas", "Asia", "Europe"],
        "regionOfExploitation": ["Africa", "Americas", "Asia", "Europe"],
        "sector": ["Agriculture", "Construction", "Domestic work", "Fishing"],
        "durationBand": ["1-6 months", "7-12 months", "13+ months"],
        "hasChildren": ["1"],
    },
}


def frame(schema: str, rows: int = 300, seed: int = 5) -> pd.DataFrame:
    """`rows` records of `schema`: each cell one of the column's values, or empty (not recorded)
    about one time in six."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name, values in SCHEMAS[schema].items():
        drawn = [values[i] for i in rng.integers(0, len(values), rows)]
        columns[name] = ["" if gone else v for v, gone in zip(drawn, rng.random(rows) < 1 / 6)]
    return pd.DataFrame(columns)


def protected_counts(records: pd.DataFrame, seed: int = 5) -> str:
    """Length-1 protected counts of the single-valued columns, with a little noise."""
    rng = np.random.default_rng(seed)
    lines = ["selections\tprotected_count", f"record_count\t{len(records) + int(rng.integers(-2, 3))}"]
    for name in records.columns:
        if records[name].str.contains(";").any():
            continue
        for value, n in sorted(records.loc[records[name] != "", name].value_counts().items()):
            lines.append(f"{name}:{value}\t{max(1, int(n) + int(rng.integers(-2, 3)))}")
    return "\n".join(lines) + "\n"


def write(folder, schema: str, rows: int = 300, aggregates: bool = False) -> list[str]:
    """Write `<schema>.csv` (and `<schema>.tsv`) into `folder`; the import-release arguments."""
    records = frame(schema, rows)
    csv_path = os.path.join(os.fspath(folder), f"{schema}.csv")
    records.to_csv(csv_path, index=False)
    args = ["--microdata", csv_path]
    if aggregates:
        tsv_path = os.path.join(os.fspath(folder), f"{schema}.tsv")
        with open(tsv_path, "w", encoding="utf-8") as fh:
            fh.write(protected_counts(records))
        args += ["--aggregates", tsv_path]
    return args
