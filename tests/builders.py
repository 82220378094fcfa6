"""Hand-built stores for tests: every record and every protected count is known."""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import pandas as pd

from data.aggregates import AggregatesFile, LengthParameters, aggregates_from_file
from data.codebook import Attribute
from data.dataset import ItemSpace, encode, load_csv
from data.writer import Release, write_store
from synth_engine import __version__, privacy
from synth_engine.__main__ import add_privacy_arguments
from synth_engine.demo_source import write_demo_source

# A smaller stand-in for the demonstration source, for the synthesis tests: 14 of the 27 columns
# (the demographic and geographic ones, duration, the three exploitation types and four frequent flags).
SYNTH_COLUMNS = [
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "typeOfSexProstitution",
    "typeOfLabourDomesticWork",
    "meansThreats",
    "meansAbusePsyPhySex",
    "recruiterRelationOther",
]


def store_from_rows(
    path,
    rows: list[dict],
    aggregates: dict[str, int] | None = None,
    record_count: int | None = None,
    lengths: list[LengthParameters] = (),
    columns: list[str] | None = None,
    quality=(),
    deviations=(),
    **release,
) -> str:
    """Write a store holding `rows` (dicts of column -> value, missing keys = not recorded) and,
    when given, the protected counts `aggregates` (canonical key -> count) and the quality
    figures (data.writer's QualityRow and QualityDeviation)."""
    columns = columns or list(dict.fromkeys(c for r in rows for c in r))
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns, dtype=object)
    extra: dict[str, set[str]] = {}
    for key in aggregates or {}:
        for item in key.split(";"):
            attribute, _, value = item.partition(":")
            extra.setdefault(attribute, set()).add(value)
    dataset = encode({c: frame[c].where(frame[c].notna(), None) for c in columns}, "test.csv", extra)
    protected = None
    if aggregates is not None:
        parsed = AggregatesFile(
            record_count if record_count is not None else len(rows),
            [
                ([tuple(i.split(":", 1)) for i in key.split(";")], n, line)
                for line, (key, n) in enumerate(aggregates.items(), start=2)
            ],
        )
        protected = aggregates_from_file(parsed, ItemSpace(dataset.codebook))
        protected.lengths = list(lengths)
    info = dict(
        name="Test release",
        kind="built",
        source="test.csv",
        is_demonstration=False,
        engine_version=__version__,
        epsilon=12.0,
        delta=3.9e-7,
        reporting_length=protected.reporting_length if protected else None,
        protected_record_count=protected.record_count if protected else None,
        synthesizer="test",
        lengths=list(lengths),
    )
    info.update(release)
    write_store(path, dataset, Release(**info), protected, list(quality), list(deviations))
    return str(path)


def random_rows(n: int, seed: int = 0) -> list[dict]:
    """Small CTDC-like records with missing values, for query tests."""
    rng = np.random.default_rng(seed)
    genders = ["Man", "Woman", "Trans/Transgender/NonConforming", None]
    ages = ["0--8", "09--17", "18--20", "30--38", "48+", None]
    countries = ["USA", "UKR", "RUS", None]
    rows = []
    for _ in range(n):
        row = {
            "yearOfRegistration": str(rng.choice(["2015", "2016", "2019"])) if rng.random() < 0.9 else None,
            "gender": genders[rng.integers(len(genders))],
            "ageBroad": ages[rng.integers(len(ages))],
            "CountryOfExploitation": countries[rng.integers(len(countries))],
            "isForcedLabour": "1" if rng.random() < 0.4 else None,
            "isSexualExploit": "1" if rng.random() < 0.5 else None,
        }
        rows.append(row)
    return rows


def repeated_rows(*groups: tuple[int, dict]) -> list[dict]:
    """Rows from (how many, record) pairs, e.g. repeated_rows((524, {"gender": "Woman"}), (3, {}))."""
    return [dict(record) for n, record in groups for _ in range(n)]


def categorical_attribute(name: str, values: tuple[str, ...]) -> Attribute:
    """A categorical attribute whose labels are its values."""
    return Attribute(name, name, "", "other", "categorical", values, values)


def brute_force_counts(codes, items: ItemSpace, max_length: int) -> dict[tuple[int, ...], int]:
    """Exact counts of every combination (sorted item ids) of length 1..max_length, by enumerating
    each record's item sets: the slow, obvious oracle for count_combinations and the privacy core."""
    counts: dict[tuple[int, ...], int] = {}
    for row in items.record_items(codes):
        present = sorted(int(i) for i in row if i >= 0)
        for k in range(1, max_length + 1):
            for combo in itertools.combinations(present, k):
                counts[combo] = counts.get(combo, 0) + 1
    return counts


def parse_privacy_args(argv: list[str]) -> argparse.Namespace:
    """The privacy options of the command line, parsed from `argv`."""
    parser = argparse.ArgumentParser()
    add_privacy_arguments(parser)
    return parser.parse_args(argv)


def demo_dataset(tmp_path_factory, rows: int, seed: int, columns: list[str], name: str):
    """`rows` demonstration records (stand-ins, not people) reduced to `columns`, loaded."""
    folder = tmp_path_factory.mktemp(name)
    full = folder / "full.csv"
    write_demo_source(full, rows=rows, seed=seed)
    frame = pd.read_csv(full, dtype=str, keep_default_na=False)
    path = folder / "records.csv"
    frame[columns].to_csv(path, index=False)
    return load_csv(path)


def aggregate_dataset(dataset, seed: int = 0, **settings):
    """The privacy core's aggregates of `dataset`, with PrivacySettings' fields given as keywords
    (the others keep their defaults)."""
    return privacy.aggregate(dataset, privacy.PrivacySettings(**settings), np.random.default_rng(seed))


def unlisted_counts(codes, aggregates, length: int) -> np.ndarray:
    """The synthetic counts of the combinations of `length` that the release does not list."""
    from synth_engine.evaluate import aggregate_counts, count_combinations

    protected = aggregate_counts(aggregates)
    synthetic = count_combinations(codes, aggregates.items, length)
    listed = np.isin(synthetic.keys[length], protected.keys.get(length, np.zeros(0, np.int64)))
    return synthetic.counts[length][~listed]


def text(component) -> str:
    """Every string in a component tree, space-separated."""
    if component is None or isinstance(component, bool):
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(text(c) for c in component)
    return text(getattr(component, "children", None))
