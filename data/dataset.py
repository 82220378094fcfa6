"""The load and validate stages: a CSV file of records becomes a `Dataset` of integer codes.

A `Dataset` holds one row per record and one column per attribute; code 0 means the value is
missing ("not recorded"), code k > 0 means the k-th value of the attribute in codebook order.
Everything downstream (aggregation, synthesis, evaluation, the store) works on these codes.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.codebook import MAX_DISTINCT_VALUES, Attribute, Codebook, pair_roles
from data.codebook_file import CodebookFile, Describer, FieldEntry
from data.errors import InputError

MULTI_VALUE_DELIMITER = ";"
_FLOAT_INTEGER = re.compile(r"^-?\d+\.0+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f:;]")


@dataclass
class Dataset:
    codebook: Codebook
    codes: np.ndarray  # (records, attributes), uint16, 0 = missing
    source_name: str = ""
    load_warnings: tuple[str, ...] = ()  # one line each, e.g. a column that did not fit the built-in codebook

    def __post_init__(self):
        if self.codes.ndim != 2 or self.codes.shape[1] != len(self.codebook):
            raise ValueError("codes must be (records, attributes)")

    @property
    def n_records(self) -> int:
        return int(self.codes.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """The records as categorical columns in codebook order (missing = NA)."""
        return pd.DataFrame(
            {
                a.name: pd.Categorical.from_codes(self.codes[:, j].astype(np.int32) - 1, categories=list(a.values))
                for j, a in enumerate(self.codebook)
            }
        )


class ItemSpace:
    """Numbers every (attribute, value) item of a codebook: items of attribute j are
    offsets[j] .. offsets[j+1]-1, in value order."""

    def __init__(self, codebook: Codebook):
        self.codebook = codebook
        sizes = np.array([len(a.values) for a in codebook], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.n_items = int(self.offsets[-1])
        self.column_of = np.repeat(np.arange(len(codebook)), sizes)
        self.code_of = np.concatenate([np.arange(1, s + 1) for s in sizes]) if len(sizes) else np.zeros(0, int)
        self.texts = [f"{a.name}:{v}" for a in codebook for v in a.values]
        self._by_text = {t: i for i, t in enumerate(self.texts)}

    def item_of_text(self, text: str) -> int | None:
        return self._by_text.get(text)

    def key(self, items) -> str:
        """Synthetic Data Showcase's canonical key: item texts sorted as text, joined by ';'."""
        return ";".join(sorted(self.texts[i] for i in items))

    def record_items(self, codes: np.ndarray) -> np.ndarray:
        """Item ids of a code matrix, -1 where missing."""
        ids = codes.astype(np.int64) - 1 + self.offsets[:-1]
        return np.where(codes > 0, ids, -1)

    def item_codes(self, item_matrix: np.ndarray) -> np.ndarray:
        """The code matrix of item ids (-1 = missing): the inverse of `record_items`."""
        codes = np.zeros(item_matrix.shape, dtype=np.uint16)
        present = item_matrix >= 0
        codes[present] = self.code_of[item_matrix[present]]
        return codes


# --- load -------------------------------------------------------------------------------------


def read_text(path: str | os.PathLike) -> str:
    """The file's text, or an InputError saying why it is not a readable UTF-8 text file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise InputError(f"{path}: not a file")
    with open(path, "rb") as fh:
        raw = fh.read()
    if not raw.strip():
        raise InputError(f"{path}: the file is empty")
    if b"\x00" in raw[:65536]:
        raise InputError(f"{path}: not a CSV file (it contains binary data)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: not UTF-8 text (invalid byte at offset {err.start}); save the file as UTF-8 and try again"
        ) from None


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """The CSV's cells as stripped strings ('' where empty), with its header checked."""
    text = read_text(path)
    first_line = text.splitlines()[0] if text.strip() else ""
    header = next(csv.reader([first_line]), [])
    names = [h.strip() for h in header]
    if not any(names):
        raise InputError(f"{path}: no header (the first line is empty)")
    # Column names are never plain numbers; a first line holding one is data.
    if any(_NUMBER.match(n) for n in names):
        raise InputError(f"{path}: no header (the first line looks like data: {first_line[:60]!r})")
    blank = [i + 1 for i, n in enumerate(names) if not n]
    if blank:
        raise InputError(f"{path}: column {blank[0]} of the header has no name")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{path}: duplicate column names: {', '.join(dupes)}")
    bad = [n for n in names if _BAD_NAME.search(n) or len(n) > 128]
    if bad:
        raise InputError(
            f"{path}: column name {bad[0]!r} is not allowed "
            "(no ':' or ';', no control characters, at most 128 characters)"
        )
    if len(names) == 1 and "\t" in first_line:
        raise InputError(f"{path}: not a comma-separated file (the header holds tabs)")
    try:
        with warnings.catch_warnings():
            # More fields in a row than in the header is an error, not data to drop quietly.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, index_col=False, engine="c"
            )
    except pd.errors.ParserWarning:
        raise InputError(f"{path}: not a well-formed CSV file (a row has more fields than the header)") from None
    except pd.errors.ParserError as err:
        raise InputError(f"{path}: not a well-formed CSV file ({_short(err)})") from None
    except (ValueError, csv.Error) as err:
        raise InputError(f"{path}: not a well-formed CSV file ({_short(err)})") from None
    frame.columns = names
    if frame.empty:
        raise InputError(f"{path}: the file has a header but no records")
    return frame.fillna("")


def _short(err: Exception) -> str:
    return str(err).strip().splitlines()[-1][:200]


def normalize_column(
    name: str, cells: pd.Series, sensitive_zeros: frozenset[str], aliases: dict[str, str] | None = None
) -> pd.Series:
    """Trimmed values with missing as None: '' (and '0' unless a sensitive zero) are missing;
    `aliases` maps other spellings of a value to the codebook's."""
    values = cells.astype(str).str.strip()
    values = values.where(~values.str.match(_FLOAT_INTEGER), values.str.replace(r"\.0+$", "", regex=True))
    missing = values.eq("")
    if name not in sensitive_zeros:
        missing |= values.eq("0")
    if aliases:
        values = values.replace(aliases)
    values = values.replace("—", "--", regex=False)
    return values.where(~missing, None)


def _multi_value_parts(values: pd.Series) -> tuple[pd.Series, list[str]]:
    """Each cell's set of ';'-separated values, and every value met, sorted."""
    parts = values.fillna("").str.split(MULTI_VALUE_DELIMITER).map(lambda ps: {p.strip() for p in ps})
    return parts, sorted(set().union(*parts) - {""})


def load_csv(
    path: str | os.PathLike,
    sensitive_zeros=(),
    extra_values: dict[str, set[str]] | None = None,
    codebook_file: CodebookFile | None = None,
) -> Dataset:
    """Load and validate a records file into a Dataset (the load → validate stages).

    `extra_values` adds values per column that the file may not show but the release uses
    (the values named in a protected aggregates file), so one codebook serves both.
    `codebook_file` is the release's own codebook; columns it does not describe get the built-in
    metadata when their values fit it, else inferred metadata (see `Describer`).
    """
    frame = read_table(path)
    source = os.path.basename(os.fspath(path))
    sensitive_zeros = frozenset(sensitive_zeros)
    unknown_zero_columns = sensitive_zeros - set(frame.columns)
    if unknown_zero_columns:
        raise InputError(f"sensitive zeros name unknown columns: {', '.join(sorted(unknown_zero_columns))}")
    describer = Describer(codebook_file)
    if codebook_file is not None:
        sensitive_zeros |= codebook_file.zero_valued() & set(frame.columns)
    columns: dict[str, pd.Series] = {}
    entries: dict[str, FieldEntry | None] = {}
    for name in frame.columns:
        values = normalize_column(name, frame[name], sensitive_zeros, describer.value_aliases(name))
        seen = set(values.dropna().unique())
        if any(MULTI_VALUE_DELIMITER in v for v in seen):
            # ';' cannot be part of a value (it separates the items of a combination's key).
            parts, distinct = _multi_value_parts(values)
            for flag in describer.multi_value_entries(name, distinct):
                part = flag.name[len(name) + 1 :]
                columns[flag.name] = parts.map(lambda ps, p=part: "1" if p in ps else None)
                entries[flag.name] = describer.entry(flag.name, {"1"}) or flag
        else:
            columns[name], entries[name] = values, describer.entry(name, seen)
    describer.check_all_used(set(columns) | set(frame.columns), source)
    return encode(columns, source, extra_values or {}, describer, entries)


def encode(
    columns: dict[str, pd.Series],
    source_name: str,
    extra_values: dict[str, set[str]],
    describer: Describer | None = None,
    entries: dict[str, FieldEntry | None] | None = None,
) -> Dataset:
    """Build the codebook from the values and encode every column (the validate stage).

    Without `entries`, each column's entry is chosen here (built-in when the values fit)."""
    describer = describer or Describer()
    attributes: list[Attribute] = []
    for name, values in columns.items():
        seen = set(values.dropna().unique())
        entry = entries[name] if entries is not None else describer.entry(name, seen)
        extra = set(extra_values.get(name, ()))
        if entry is not None and entry.values is not None:
            extra &= set(entry.values)  # the aggregates file's own check names any other value
        seen |= extra
        if len(seen) > MAX_DISTINCT_VALUES:
            raise InputError(
                f"column {name!r} has {len(seen):,} distinct values (at most "
                f"{MAX_DISTINCT_VALUES:,} are allowed): is it an identifier or free text?"
            )
        attributes.append(describer.attribute(name, entry, seen))
    codebook = Codebook(tuple(pair_roles(attributes)))
    codes = [
        (np.asarray(pd.Categorical(values, categories=list(a.values)).codes, dtype=np.int32) + 1).astype(np.uint16)
        for a, values in zip(codebook, columns.values())
    ]
    matrix = np.column_stack(codes) if codes else np.zeros((0, 0), np.uint16)
    return Dataset(codebook, np.ascontiguousarray(matrix), source_name, tuple(describer.warnings))
