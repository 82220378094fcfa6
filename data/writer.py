"""Writes a whole release into a store file, atomically.

The store is written to a temporary file in the same folder, checked, then renamed over the old
one: a failed or interrupted build leaves the old store as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from data.aggregates import LengthParameters, ProtectedAggregates
from data.dataset import Dataset
from data.release_meta import FIELDS as META_FIELDS
from data.release_meta import ReleaseMetadata
from data.schema import FIXED_DDL, LATER_TABLES, SCHEMA_VERSION, TABLES, enum_type_name, quote_ident, quote_literal


@dataclass
class Release:
    """Public facts about a release (nothing here may come from sensitive records unprotected)."""

    name: str
    kind: str  # 'built' or 'imported'
    source: str
    is_demonstration: bool
    engine_version: str
    epsilon: float | None = None
    delta: float | None = None
    reporting_length: int | None = None
    protected_record_count: int | None = None
    synthesizer: str | None = None
    seed: int | None = None
    lengths: list[LengthParameters] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    metadata: ReleaseMetadata = field(default_factory=ReleaseMetadata)
    built_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))


@dataclass(frozen=True)
class QualityRow:
    comparison: str
    metric: str
    value: float
    length: int | None = None
    bucket_low: int | None = None


@dataclass(frozen=True)
class QualityDeviation:
    comparison: str
    rank: int
    length: int
    key: str
    reference_count: int
    compared_count: int
    z: float


class StoreWriteError(Exception):
    """The new store could not be written or failed its check; the old one is untouched."""


def write_store(
    path: str | os.PathLike,
    records: Dataset,
    release: Release,
    aggregates: ProtectedAggregates | None = None,
    quality: list[QualityRow] = (),
    deviations: list[QualityDeviation] = (),
) -> None:
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:  # from here on, an interruption (SIGTERM unwinds as KeyboardInterrupt) removes the file
        os.close(fd)
        os.unlink(tmp)  # DuckDB must create the file itself
        con = duckdb.connect(tmp)
        try:
            _write_all(con, records, release, aggregates, quality, deviations)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _check(tmp, records, aggregates)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        raise


def _write_all(con, records: Dataset, release: Release, aggregates, quality, deviations) -> None:
    con.execute(FIXED_DDL)
    _write_codebook(con, records)
    _write_records(con, records)
    lengths = {p.length: p for p in release.lengths}
    combos_per_length = {k: len(c) for k, c in aggregates.counts.items()} if aggregates else {}
    for k in sorted(set(lengths) | set(combos_per_length)):
        p = lengths.get(k)
        con.execute(
            "INSERT INTO release_lengths VALUES (?, ?, ?, ?, ?, ?)",
            [k, p and p.sigma, p and p.sensitivity, p and p.noise_sd, p and p.threshold, combos_per_length.get(k, 0)],
        )
    if aggregates is not None:
        _write_aggregates(con, aggregates)
    con.execute(
        f"INSERT INTO release VALUES ({', '.join('?' * (16 + len(META_FIELDS)))})",
        [
            SCHEMA_VERSION,
            release.name,
            release.kind,
            release.epsilon,
            release.delta,
            release.reporting_length,
            release.protected_record_count,
            records.n_records,
            release.synthesizer,
            release.engine_version,
            release.seed,
            release.built_at,
            release.source,
            release.is_demonstration,
            aggregates is not None,
            json.dumps(release.parameters, sort_keys=True),
            *release.metadata.as_dict().values(),
        ],
    )
    if quality:
        con.executemany(
            "INSERT INTO quality VALUES (?, ?, ?, ?, ?)",
            [[q.comparison, q.metric, q.length, q.bucket_low, q.value] for q in quality],
        )
    if deviations:
        con.executemany(
            "INSERT INTO quality_deviations VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[d.comparison, d.rank, d.length, d.key, d.reference_count, d.compared_count, d.z] for d in deviations],
        )


def _write_codebook(con, records: Dataset) -> None:
    cb = records.codebook
    con.executemany(
        "INSERT INTO codebook VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [i, a.name, a.label, a.description, a.group, a.kind, a.group_label, a.role, a.party, a.pair]
            for i, a in enumerate(cb)
        ],
    )
    con.executemany(
        "INSERT INTO codebook_values VALUES (?, ?, ?, ?)",
        [[a.name, j + 1, v, lab] for a in cb for j, (v, lab) in enumerate(zip(a.values, a.value_labels))],
    )
    texts = [[a.name, *row] for a in cb for row in a.translations]
    if texts:
        con.executemany("INSERT INTO codebook_texts VALUES (?, ?, ?, ?, ?)", texts)


def _write_records(con, records: Dataset) -> None:
    cb = records.codebook
    columns = ["record_id INTEGER PRIMARY KEY"]
    for i, a in enumerate(cb):
        values = ", ".join(quote_literal(v) for v in a.values) or "''"
        con.execute(f"CREATE TYPE {enum_type_name(i)} AS ENUM ({values})")
        columns.append(f"{quote_ident(a.name)} {enum_type_name(i)}")
    con.execute(f"CREATE TABLE records ({', '.join(columns)})")
    frame = records.to_frame().astype(object)
    frame = frame.where(frame.notna(), None)
    frame.insert(0, "record_id", np.arange(1, records.n_records + 1, dtype=np.int64))
    con.register("new_records", frame)
    con.execute("INSERT INTO records SELECT * FROM new_records")
    con.unregister("new_records")


def _write_aggregates(con, aggregates: ProtectedAggregates) -> None:
    items = aggregates.items
    keys, lengths, counts, item_rows = [], [], [], []
    for k in sorted(aggregates.combos):
        for row, count in zip(aggregates.combos[k], aggregates.counts[k]):
            keys.append(items.key(row))
            lengths.append(k)
            counts.append(int(count))
            item_rows.append(row)
    ids = np.arange(1, len(keys) + 1, dtype=np.int64)
    table = pd.DataFrame({"combo_id": ids, "key": keys, "length": lengths, "protected_count": counts})
    con.register("new_aggregates", table)
    con.execute("INSERT INTO aggregates SELECT * FROM new_aggregates ORDER BY length, key")
    con.unregister("new_aggregates")
    flat = np.concatenate(item_rows) if item_rows else np.zeros(0, np.int64)
    owner = np.repeat(ids, lengths) if item_rows else np.zeros(0, np.int64)
    cb = items.codebook
    names = np.array(cb.names, dtype=object)
    value_text = np.array([v for a in cb for v in a.values], dtype=object)
    pairs = pd.DataFrame({"combo_id": owner, "attribute": names[items.column_of[flat]], "value": value_text[flat]})
    con.register("new_items", pairs)
    con.execute("INSERT INTO aggregate_items SELECT * FROM new_items ORDER BY attribute, value, combo_id")
    con.unregister("new_items")


def _check(tmp: str, records: Dataset, aggregates) -> None:
    """Open the new file read-only and make sure it holds what was meant to be written."""
    try:
        con = duckdb.connect(tmp, read_only=True)
    except duckdb.Error as err:
        raise StoreWriteError(f"the new store does not open: {err}") from None
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = set(TABLES + LATER_TABLES) - present
        if missing:
            raise StoreWriteError(f"the new store lacks tables: {', '.join(sorted(missing))}")
        n = con.execute("SELECT count(*) FROM records").fetchone()[0]
        if n != records.n_records:
            raise StoreWriteError(f"the new store holds {n} records instead of {records.n_records}")
        if aggregates is not None:
            m = con.execute("SELECT count(*) FROM aggregates").fetchone()[0]
            if m != aggregates.total():
                raise StoreWriteError(f"the new store holds {m} combinations instead of {aggregates.total()}")
    finally:
        con.close()
