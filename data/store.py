"""Read access to a store: the only code that queries it.

The file is opened read-only with external access disabled, so no query can read or write any
other file or reach the network; each thread gets its own cursor (DuckDB connections are not
shared across threads). Users' values only ever reach SQL as parameters; column names only
come from the store's own codebook.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from data.codebook import Attribute, Codebook
from data.localized import localized
from data.release_meta import FIELDS as META_FIELDS
from data.schema import (
    DEVIATION_METRICS,
    LATER_TABLES,
    PUBLIC_COMPARISON,
    SCHEMA_VERSION,
    TABLES,
    UNLISTED_METRICS,
    quote_ident,
)

NOT_RECORDED = None  # the value standing for "missing" in a Filter
STORE_CATALOG = "store"  # the name the file is attached under


class FilterError(ValueError):
    """A filter names an attribute or value the store does not know."""


class StoreError(Exception):
    """The store is missing, unreadable, or not a GSD Explorer store."""


@dataclass(frozen=True)
class Filter:
    """Attribute -> allowed values. Values of one attribute combine with OR, attributes with AND.
    `None` among the values means "not recorded". Built only through `Filter.build`, which checks
    every name and value against the codebook and puts them in codebook order."""

    selections: tuple[tuple[str, tuple[str | None, ...]], ...] = ()

    @classmethod
    def build(cls, codebook: Codebook, mapping: Mapping[str, Iterable[str | None]] | None) -> Filter:
        if not mapping:
            return cls()
        if not isinstance(mapping, Mapping):
            raise FilterError("a filter must map attribute names to lists of values")
        chosen = {}
        for name, values in mapping.items():
            if not isinstance(name, str) or name not in codebook:
                raise FilterError(f"unknown attribute {str(name)[:80]!r}")
            if isinstance(values, str) or values is None:
                values = [values]
            elif not isinstance(values, (list, tuple, set, frozenset)):
                raise FilterError(f"the values of {name} must be a list")
            attribute = codebook[name]
            wanted = set()
            for v in values:
                if v is not None and (not isinstance(v, str) or v not in attribute.values):
                    raise FilterError(f"unknown value {str(v)[:80]!r} for {name}")
                wanted.add(v)
            if wanted:
                chosen[name] = tuple([v for v in attribute.values if v in wanted] + ([None] if None in wanted else []))
        return cls(tuple((n, chosen[n]) for n in codebook.names if n in chosen))

    def as_dict(self) -> dict[str, list[str | None]]:
        return {name: list(values) for name, values in self.selections}

    @property
    def attributes(self) -> list[str]:
        return [name for name, _ in self.selections]

    def values(self, name: str) -> tuple[str | None, ...]:
        return dict(self.selections).get(name, ())

    def without(self, name: str) -> Filter:
        return Filter(tuple(s for s in self.selections if s[0] != name))

    def cache_key(self) -> str:
        return json.dumps(self.selections, separators=(",", ":"))

    def __bool__(self):
        return bool(self.selections)

    def where(self) -> tuple[str, list]:
        """SQL condition and its parameters."""
        clauses, params = [], []
        for name, values in self.selections:
            column = quote_ident(name)
            known = [v for v in values if v is not None]
            parts = []
            if known:
                parts.append(f"{column}::VARCHAR IN ({', '.join('?' * len(known))})")
                params.extend(known)
            if None in values:
                parts.append(f"{column} IS NULL")
            clauses.append("(" + " OR ".join(parts) + ")")
        return (" AND ".join(clauses) or "TRUE"), params


def checked_sets(codebook: Codebook, sets: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """Sets of attributes to group by, each of one or more different known attributes."""
    sets = [tuple(s) for s in sets]
    for names in sets:
        if not names or len(set(names)) != len(names):
            raise FilterError("each set names one or more different attributes")
        for name in names:
            if name not in codebook:
                raise FilterError(f"unknown attribute {str(name)[:80]!r}")
    return sets


def flag_group_members(codebook: Codebook, groups: Iterable[str]) -> dict[str, list[str]]:
    """Each group's flags, in codebook order; a group without flags is an error."""
    members = {}
    for group in dict.fromkeys(groups):
        flags = [a.name for a in codebook if a.group == group and a.kind == "flag"]
        if not flags:
            raise FilterError(f"no flags in group {str(group)[:80]!r}")
        members[group] = flags
    return members


def _open_read_only(path: str) -> duckdb.DuckDBPyConnection:
    if not os.path.isfile(path):
        raise StoreError(f"no store at {path}")
    # The file is attached to a private in-memory database rather than opened with
    # duckdb.connect(path): connect() hands back its cached instance for that path while any old
    # connection lives, i.e. the replaced file's content after a rebuild was renamed into place.
    connection = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    try:
        connection.execute(f"ATTACH ? AS {STORE_CATALOG} (READ_ONLY)", [path])
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        connection.execute(f"USE {STORE_CATALOG}")
        return connection
    except duckdb.Error as err:
        connection.close()
        raise StoreError(f"{path} is not a readable store: {str(err).splitlines()[0]}") from None


def file_identity(path: str):
    """(inode, mtime, size) of the file, None when absent: a store renamed into place differs."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Store:
    def __init__(self, path: str | os.PathLike):
        self.path = os.path.abspath(os.fspath(path))
        self.identity = file_identity(self.path)
        self._connection = _open_read_only(self.path)
        self._local = threading.local()
        try:
            tables = {
                r[0] for r in self._cursor().execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            if set(TABLES) - tables:
                raise StoreError(f"{self.path} is not a GSD Explorer store (tables missing)")
            self.tables = TABLES + tuple(t for t in LATER_TABLES if t in tables)
            self.release = self._read_release()
            self.release_codebook = self._read_codebook()  # as the release wrote it
            self._localized: dict = {}
            self._known_values = {a.name: frozenset(a.values) for a in self.release_codebook}
            self.release_lengths = self._query_frame("SELECT * FROM release_lengths ORDER BY length")
        except duckdb.Error as err:
            self._connection.close()
            raise StoreError(f"{self.path} is not a readable store: {str(err).splitlines()[0]}") from None
        if self.release.get("schema_version") != SCHEMA_VERSION:
            self._connection.close()
            raise StoreError(f"{self.path} was written by another version of the engine")

    @property
    def release_identity(self) -> tuple:
        """(release name, build time as text, file size): equal for copies of one release on every
        host, different once the store is rebuilt; the key of its cached results and downloads."""
        return (self.release.get("name"), str(self.release.get("built_at")), self.identity[2])

    def close(self) -> None:
        self._connection.close()

    def _new_cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = self._connection.cursor()
        cursor.execute(f"USE {STORE_CATALOG}")  # each cursor starts in the in-memory catalog
        return cursor

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._new_cursor()
            self._local.cursor = cursor
        return cursor

    def _query_frame(self, sql: str, params=()) -> pd.DataFrame:
        return self._cursor().execute(sql, list(params)).df()

    def _scalar(self, sql: str, params=()):
        return self._cursor().execute(sql, list(params)).fetchone()[0]

    # --- metadata -------------------------------------------------------------------------

    def _read_release(self) -> dict:
        frame = self._query_frame("SELECT * FROM release")
        if len(frame) != 1:
            raise StoreError(f"{self.path} has no release row")
        row = {k: (None if pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}
        row["parameters"] = json.loads(row["parameters"]) if row.get("parameters") else {}
        for key in META_FIELDS:  # absent from version 1 stores
            row.setdefault(key, None)
        if row["release_date"] is not None:
            row["release_date"] = str(row["release_date"])[:10]  # ISO date text, as it was given
        for key in ("protected_record_count", "synthetic_record_count", "reporting_length", "seed", "schema_version"):
            if row.get(key) is not None:
                row[key] = int(row[key])
        for key in ("is_demonstration", "has_aggregates"):
            row[key] = bool(row[key])
        return row

    def _read_codebook(self) -> Codebook:
        # SELECT *: a version 1 store lacks the later columns (group_label, role, party, pair).
        cursor = self._cursor().execute("SELECT * FROM codebook ORDER BY position")
        names = [d[0] for d in cursor.description]
        attributes = [dict(zip(names, row)) for row in cursor.fetchall()]
        values: dict[str, list[tuple[str, str]]] = {}
        for name, value, label in (
            self._cursor()
            .execute("SELECT attribute, value, label FROM codebook_values ORDER BY attribute, position")
            .fetchall()
        ):
            values.setdefault(name, []).append((value, label))
        texts: dict[str, list[tuple]] = {}
        if "codebook_texts" in self.tables:
            for name, *row in (
                self._cursor()
                .execute(
                    "SELECT attribute, language, value, label, coalesce(description, '') FROM codebook_texts "
                    "ORDER BY attribute, language, value NULLS FIRST"
                )
                .fetchall()
            ):
                texts.setdefault(name, []).append(tuple(row))
        return Codebook(
            tuple(
                Attribute(
                    row["attribute"],
                    row["label"],
                    row["description"],
                    row["group_name"],
                    row["kind"],
                    tuple(v for v, _ in values.get(row["attribute"], [])),
                    tuple(lab for _, lab in values.get(row["attribute"], [])),
                    **{key: row.get(key) or "" for key in ("group_label", "role", "party", "pair")},
                    translations=tuple(texts.get(row["attribute"], ())),
                )
                for row in attributes
            )
        )

    @property
    def codebook(self) -> Codebook:
        """The codebook in the reader's language (data/localized.py); names and values as released."""
        return localized(self.release_codebook, self._localized)

    def filter(self, mapping: Mapping[str, Iterable[str | None]] | None) -> Filter:
        return Filter.build(self.codebook, mapping)

    def quality(self) -> pd.DataFrame:
        """Every quality figure, one row each (comparison, metric, length, bucket_low, value)."""
        return self._query_frame("SELECT * FROM quality ORDER BY comparison, metric, length, bucket_low")

    def _quality_columns(self, metrics: Sequence[str], by_bucket: bool) -> pd.DataFrame:
        """The public figures `metrics` as columns, a row per length (and bucket) they have."""
        frame = self._query_frame(
            "SELECT length, bucket_low, metric, value FROM quality WHERE comparison = ? "
            "AND metric IN (SELECT unnest(?::VARCHAR[])) AND (bucket_low IS NOT NULL) = ? "
            "ORDER BY length NULLS LAST, bucket_low",
            [PUBLIC_COMPARISON, list(metrics), by_bucket],
        )
        index = ["length", "bucket_low"] if by_bucket else ["length"]
        wide = frame.set_index(index + ["metric"])["value"].unstack("metric").sort_index(na_position="last")
        wide = wide.reindex(columns=[m for m in metrics if m in wide.columns])
        return wide.reset_index().rename_axis(None, axis=1)

    def agreement_by_length(self) -> pd.DataFrame:
        """Synthetic vs protected counts in noise units per length (NaN length: all lengths):
        measured_combinations, mean_abs_z, within_noise_95_pct, max_abs_z, mean_relative_error."""
        return self._quality_columns(DEVIATION_METRICS, by_bucket=False)

    def agreement_by_bucket(self) -> pd.DataFrame:
        """The same figures per length and bucket of protected counts [bucket_low, 10·bucket_low)."""
        return self._quality_columns(DEVIATION_METRICS, by_bucket=True)

    def unlisted_by_length(self) -> pd.DataFrame:
        """Per length: synthetic combinations the protected counts lack, those beyond the noise,
        SDS's fabricated % and the suppressed % of the protected combinations."""
        return self._quality_columns(UNLISTED_METRICS, by_bucket=False).dropna(subset=["length"])

    def quality_totals(self) -> dict[str, float]:
        """The public figures over the whole release (implications, records holding an unlisted
        combination, record counts ...): metric -> value."""
        rows = (
            self._cursor()
            .execute(
                "SELECT metric, value FROM quality WHERE comparison = ? AND length IS NULL AND bucket_low IS NULL "
                "AND metric NOT IN (SELECT unnest(?::VARCHAR[])) ORDER BY metric",
                [PUBLIC_COMPARISON, list(DEVIATION_METRICS)],
            )
            .fetchall()
        )
        return {metric: float(value) for metric, value in rows}

    def largest_deviations(self) -> pd.DataFrame:
        """The combinations whose synthetic count is furthest from the protected count, by |z|:
        rank, length, key, reference_count (protected), compared_count (synthetic), z; none in a
        store written before the table existed."""
        if "quality_deviations" not in self.tables:
            return pd.DataFrame(columns=["rank", "length", "key", "reference_count", "compared_count", "z"])
        return self._query_frame(
            "SELECT rank, length, key, reference_count, compared_count, z FROM quality_deviations "
            "WHERE comparison = ? ORDER BY rank",
            [PUBLIC_COMPARISON],
        )

    def table_sizes(self) -> dict[str, int]:
        return {t: int(self._scalar(f"SELECT count(*) FROM {t}")) for t in self.tables}

    # --- counts of synthetic records -------------------------------------------------------

    def count(self, flt: Filter = Filter()) -> int:
        where, params = flt.where()
        return int(self._scalar(f"SELECT count(*) FROM records WHERE {where}", params))

    def group_counts(self, flt: Filter, attribute: str, by: str | None = None) -> pd.DataFrame:
        """Counts of records under `flt` per value of `attribute` (and of `by`), in codebook
        order, missing values as None; only combinations that occur are listed."""
        names = [attribute] + ([by] if by else [])
        for name in names:
            if name not in self.codebook:
                raise FilterError(f"unknown attribute {str(name)[:80]!r}")
        if by == attribute:
            raise FilterError("group by two different attributes")
        where, params = flt.where()
        columns = ", ".join(quote_ident(n) for n in names)
        frame = self._query_frame(
            f"SELECT {columns}, count(*) AS count FROM records WHERE {where} "
            f"GROUP BY ALL ORDER BY {', '.join(quote_ident(n) + ' NULLS LAST' for n in names)}",
            params,
        )
        for name in names:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        frame["count"] = frame["count"].astype("int64")
        return frame

    def flag_group_counts(self, flt: Filter, group: str) -> tuple[int, dict[str, int]]:
        """For a group of flags: the records with at least one flag of the group set (the
        denominator of the codebook's percentages), and each flag's count, under `flt`."""
        flags = flag_group_members(self.codebook, [group])[group]
        where, params = flt.where()
        any_set = " OR ".join(f"{quote_ident(f)} IS NOT NULL" for f in flags)
        per_flag = ", ".join(f"count({quote_ident(f)})" for f in flags)
        row = (
            self._cursor()
            .execute(f"SELECT count(*) FILTER (WHERE {any_set}), {per_flag} FROM records WHERE {where}", params)
            .fetchone()
        )
        return int(row[0]), {f: int(c) for f, c in zip(flags, row[1:])}

    def grouping_counts(self, flt: Filter, sets: Sequence[Sequence[str]]) -> list[pd.DataFrame]:
        """For each set of attributes, what `group_counts` gives for it: the counts of records
        under `flt` per combination of the set's values that occurs (missing values as None),
        in codebook order. All sets come from one scan of the records (GROUPING SETS)."""
        sets = checked_sets(self.codebook, sets)
        if not sets:
            return []
        columns = [n for n in self.codebook.names if any(n in s for s in sets)]
        quoted = ", ".join(quote_ident(c) for c in columns)
        grouping = ", ".join("(" + ", ".join(quote_ident(n) for n in names) + ")" for names in dict.fromkeys(sets))
        where, params = flt.where()
        frame = self._query_frame(
            f"SELECT {quoted}, GROUPING({quoted}) AS grouping_mask, count(*) AS count FROM records "
            f"WHERE {where} GROUP BY GROUPING SETS ({grouping}) "
            f"ORDER BY grouping_mask, {', '.join(quote_ident(c) + ' NULLS LAST' for c in columns)}",
            params,
        )
        for name in columns:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        frame["count"] = frame["count"].astype("int64")
        out = []
        for names in sets:
            # GROUPING() sets the bit of each column left out of the set, first column highest.
            mask = sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in names)
            part = frame.loc[frame["grouping_mask"] == mask, [n for n in columns if n in names] + ["count"]]
            out.append(part[list(names) + ["count"]].reset_index(drop=True))
        return out

    def flag_groups_counts(self, flt: Filter, groups: Sequence[str]) -> dict[str, tuple[int, dict[str, int]]]:
        """`flag_group_counts` for several groups, from one scan of the records."""
        members = flag_group_members(self.codebook, groups)
        if not members:
            return {}
        where, params = flt.where()
        selected = []
        for flags in members.values():
            any_flag = " OR ".join(f"{quote_ident(f)} IS NOT NULL" for f in flags)
            selected.append(f"count(*) FILTER (WHERE {any_flag})")
            selected.extend(f"count({quote_ident(f)})" for f in flags)
        sql = f"SELECT {', '.join(selected)} FROM records WHERE {where}"
        row = iter(self._cursor().execute(sql, params).fetchone())
        return {group: (int(next(row)), {f: int(next(row)) for f in flags}) for group, flags in members.items()}

    def _columns(self, columns: Iterable[str] | None) -> list[str]:
        if columns is None:
            return self.codebook.names
        columns = list(columns)
        for name in columns:
            if not isinstance(name, str) or name not in self.codebook:
                raise FilterError(f"unknown attribute {str(name)[:80]!r}")
        return [n for n in self.codebook.names if n in set(columns)]

    def records_page(
        self, flt: Filter, offset: int = 0, limit: int = 100, columns: Iterable[str] | None = None
    ) -> pd.DataFrame:
        offset, limit = max(0, int(offset)), max(0, min(int(limit), 10_000))
        where, params = flt.where()
        selected = ", ".join(
            ["record_id"] + [f"{quote_ident(c)}::VARCHAR AS {quote_ident(c)}" for c in self._columns(columns)]
        )
        return self._query_frame(
            f"SELECT {selected} FROM records WHERE {where} ORDER BY record_id LIMIT ? OFFSET ?",
            params + [limit, offset],
        )

    def record_batches(self, flt: Filter, columns: Iterable[str] | None = None, batch_rows: int = 50_000) -> Iterator:
        """The matching records as pyarrow RecordBatches (values as text), for streaming."""
        where, params = flt.where()
        selected = ", ".join(f"{quote_ident(c)}::VARCHAR AS {quote_ident(c)}" for c in self._columns(columns))
        # A cursor of its own: the stream may outlive this call while the thread serves others.
        cursor = self._new_cursor()
        reader = cursor.sql(
            f"SELECT {selected} FROM records WHERE {where} ORDER BY record_id", params=params
        ).to_arrow_reader(batch_rows)
        try:
            yield from reader
        finally:
            cursor.close()

    def record_codes(self) -> dict[str, np.ndarray]:
        """Every record's value of each attribute as a number, in record_id order: 0 when not
        recorded, k for the k-th value in codebook order (for counting in memory, data/counting.py)."""
        names = self.codebook.names
        if not names:
            return {}
        # data/writer.py creates each attribute's ENUM with its values in codebook order, so
        # enum code + 1 is the value's codebook position (0 stays "not recorded").
        arrays = (
            self._cursor()
            .execute(
                "SELECT "
                + ", ".join(
                    f"coalesce(enum_code({quote_ident(n)})::USMALLINT + 1, 0) AS c{i}" for i, n in enumerate(names)
                )
                + " FROM records ORDER BY record_id"
            )
            .fetchnumpy()
        )
        return {
            name: np.asarray(arrays[f"c{i}"]).astype(np.uint8 if len(self.codebook[name].values) < 255 else np.uint16)
            for i, name in enumerate(names)
        }

    # --- protected aggregates --------------------------------------------------------------

    def combination_key(self, items: Mapping[str, str]) -> str:
        """The canonical key of an exact combination, each item checked against the codebook."""
        texts = []
        for name, value in items.items():
            known = self._known_values.get(name)  # a set: views make thousands of keys at once
            if known is None:
                raise FilterError(f"unknown attribute {str(name)[:80]!r}")
            if not isinstance(value, str) or value not in known:
                raise FilterError(f"unknown value {str(value)[:80]!r} for {name}")
            texts.append(f"{name}:{value}")
        return ";".join(sorted(texts))

    def protected_count(self, items: Mapping[str, str]) -> int | None:
        """The protected count of exactly this combination; None when the release has none."""
        key = self.combination_key(items)
        return self.protected_counts([key]).get(key)

    def protected_counts(self, keys: Iterable[str]) -> dict[str, int]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        # The table is stored by length, so bounding the length skips the longer combinations' rows.
        lengths = [k.count(";") + 1 for k in keys]
        rows = (
            self._cursor()
            .execute(
                "SELECT key, protected_count FROM aggregates WHERE length BETWEEN ? AND ? "
                "AND key IN (SELECT unnest(?::VARCHAR[]))",
                [min(lengths), max(lengths), keys],
            )
            .fetchall()
        )
        return {k: int(c) for k, c in rows}

    def all_protected_counts(self) -> dict[str, int]:
        """Every released combination's key -> protected count (to look many up in memory)."""
        rows = self._cursor().execute("SELECT key, protected_count FROM aggregates").fetchnumpy()
        return dict(zip(rows["key"].tolist(), rows["protected_count"].tolist()))

    def aggregate_rows(self, batch_rows: int = 100_000) -> Iterator[list[tuple[str, int]]]:
        """Every protected combination, by length then count descending (SDS's file order)."""
        cursor = self._new_cursor()
        result = cursor.execute(
            "SELECT key, protected_count FROM aggregates ORDER BY length, protected_count DESC, key"
        )
        try:
            while rows := result.fetchmany(batch_rows):
                yield rows
        finally:
            cursor.close()
