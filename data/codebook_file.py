"""Codebook files: a release's codebook as a Frictionless Data Package descriptor (datapackage.json).

The records' table schema lists per field its name, title, description, type, `categories`
(value and label) and `categoriesOrdered`; the project's own properties are extra field
properties prefixed `gsd:` (kind, group, role, party, pair, aliases, value aliases), and the
package's `gsd:groups` gives each group its title (and, for groups of co-occurring flags, their
denominator). CTDC's columns are described by such a file shipped with the project
(`data/codebooks/ctdc.datapackage.json`).

A `Describer` decides where each column's metadata comes from: the release's own file (which
must fit the data: a misfit is an error), else the built-in file when the column's values fit it
(otherwise one warning line and inference), else inference (`data/codebook.py`).
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field

from data import release_meta
from data.codebook import (
    BUILTIN_CODEBOOK,
    DEFAULT_GROUP,
    FLAG_DENOMINATOR,
    FLAG_LABEL,
    KINDS,
    ROLES,
    Attribute,
    Codebook,
    humanize,
    infer_attribute,
    infer_kind,
    infer_party,
    is_country_code,
    is_year,
    ordered_values,
    value_labels,
)
from data.errors import InputError
from data.release_meta import ReleaseMetadata

PREFIX = "gsd:"
RECORDS_RESOURCE = "records"
MISSING_VALUES = ["", "0"]  # as in Synthetic Data Showcase: an empty cell or 0 is "not recorded"
_INTEGER_KINDS = ("year", "flag")


@dataclass(frozen=True)
class FieldEntry:
    """What a codebook file says about one field; empty text and None mean "not said"."""

    name: str
    title: str = ""
    description: str = ""
    kind: str = ""
    group: str = ""
    role: str | None = None
    party: str | None = None
    pair: str = ""
    values: tuple[str, ...] | None = None  # None: an open domain (years, countries, ...)
    labels: tuple[str, ...] = ()
    ordered: bool = False
    aliases: tuple[str, ...] = ()
    value_aliases: dict = field(default_factory=dict, compare=False)
    translations: tuple[tuple[str, str | None, str, str], ...] = ()  # see Attribute.translations

    def misfit(self, seen) -> str | None:
        """Why values `seen` do not fit this entry, or None when they do."""
        if self.values is not None:
            unknown = sorted(set(seen) - set(self.values))
            if unknown:
                return f"value {unknown[0]!r} is not one of {', '.join(self.values)}"
        elif self.kind == "year":
            odd = sorted(v for v in seen if not is_year(v))
            if odd:
                return f"value {odd[0]!r} is not a year"
        elif self.kind == "country":
            odd = sorted(v for v in seen if not is_country_code(v))
            if odd:
                return f"value {odd[0]!r} is not a three-letter country code"
        return None

    def attribute(self, column: str, seen, group_labels: dict[str, str]) -> Attribute:
        """The column's attribute: a fixed domain keeps its whole value list (stores of different
        releases share one order), an open one takes the values seen."""
        if self.values is not None:
            kind = self.kind or ("ordinal" if self.ordered else infer_kind(list(self.values)))
            values, labels = self.values, self.labels
        else:
            kind = self.kind or ("ordinal" if self.ordered else infer_kind(sorted(seen)))
            values = ordered_values(kind, seen)
            labels = value_labels(kind, values)
        group = self.group or DEFAULT_GROUP
        return Attribute(
            column,
            self.title or humanize(column),
            self.description,
            group,
            kind,
            values,
            labels,
            group_label=group_labels.get(group, ""),
            role=self.role or "",
            party=infer_party(column) if self.party is None else self.party,
            pair=self.pair,
            translations=self.translations,
        )


@dataclass(frozen=True)
class CodebookFile:
    source: str
    entries: tuple[FieldEntry, ...]
    group_labels: dict = field(default_factory=dict, compare=False)
    release: ReleaseMetadata = ReleaseMetadata()

    def entry_for(self, column: str) -> FieldEntry | None:
        return next((e for e in self.entries if column == e.name or column in e.aliases), None)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def zero_valued(self) -> set[str]:
        """Fields that list 0 as a value: there a 0 is data, not "not recorded"."""
        return {e.name for e in self.entries if e.values and "0" in e.values}


# --- reading ----------------------------------------------------------------------------------


def read_codebook_file(path: str | os.PathLike, check_standard: bool = True) -> CodebookFile:
    """A codebook file, checked; any fault is an InputError of one line naming the file.
    `check_standard=False` skips frictionless's check (for the shipped file, checked by a test)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    try:
        with open(path, encoding="utf-8-sig") as fh:
            descriptor = json.load(fh)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not JSON (line {err.lineno}: {err.msg})") from None
    return parse_descriptor(descriptor, path, check_standard)


def parse_descriptor(descriptor, where: str, check_standard: bool = True) -> CodebookFile:
    if not isinstance(descriptor, dict):
        raise InputError(f"{where}: a codebook file holds a JSON object (a Data Package descriptor)")
    if check_standard:
        _check_standard(descriptor, where)
    fields_ = _schema_fields(descriptor, where)
    entries = tuple(_entry(f, where) for f in fields_)
    claimed: dict[str, str] = {}
    for e in entries:
        for name in (e.name, *e.aliases):
            if claimed.setdefault(name, e.name) != e.name:
                raise InputError(f"{where}: column name {name!r} is claimed by fields {claimed[name]!r} and {e.name!r}")
    try:
        release = release_meta.from_descriptor(descriptor)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None
    return CodebookFile(where, entries, _group_labels(descriptor, where), release)


def _check_standard(descriptor: dict, where: str) -> None:
    """Frictionless checks the descriptor against the Data Package standard (structure, types,
    unique field names); remote profiles are never fetched."""
    from frictionless import Package

    local = {k: v for k, v in descriptor.items() if k not in ("profile", "$schema")}
    if isinstance(local.get("resources"), list):
        local["resources"] = [
            {k: v for k, v in r.items() if k not in ("profile", "$schema")} if isinstance(r, dict) else r
            for r in local["resources"]
        ]
    report = Package.validate_descriptor(local)
    if report.errors:
        raise InputError(f"{where}: not a valid Data Package descriptor: {report.errors[0].message}")


def _schema_fields(descriptor: dict, where: str) -> list[dict]:
    resources = [r for r in descriptor.get("resources") or [] if isinstance(r.get("schema"), dict)]
    chosen = next((r for r in resources if r.get("name") == RECORDS_RESOURCE), resources[0] if resources else None)
    fields_ = chosen["schema"].get("fields") if chosen else None
    if not fields_:
        raise InputError(f"{where}: the descriptor has no resource with a table schema listing fields")
    return fields_


def _text(value, where: str, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{where}: {what} must be text")
    return value.strip()


def _entry(spec: dict, where: str) -> FieldEntry:
    name = spec["name"]
    at = f"{where}: field {name!r}"
    kind = _text(spec.get(PREFIX + "kind"), at, "gsd:kind")
    if kind and kind not in KINDS:
        raise InputError(f"{at}: kind {kind!r} is not one of {', '.join(KINDS)}")
    role = spec.get(PREFIX + "role")
    if role is not None and role not in ROLES:
        raise InputError(f"{at}: role {role!r} is not one of origin, destination")
    values, labels = _categories(spec.get("categories"), kind, at)
    aliases = spec.get(PREFIX + "aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise InputError(f"{at}: gsd:aliases must be a list of column names")
    value_aliases = spec.get(PREFIX + "valueAliases") or {}
    if not isinstance(value_aliases, dict) or not all(isinstance(v, str) for v in value_aliases.values()):
        raise InputError(f"{at}: gsd:valueAliases must map spellings to values")
    stray = sorted(set(value_aliases.values()) - set(values or ()))
    if stray:
        raise InputError(f"{at}: gsd:valueAliases names {stray[0]!r}, which is not one of its categories")
    return FieldEntry(
        name,
        _text(spec.get("title"), at, "title"),
        _text(spec.get("description"), at, "description"),
        kind,
        _text(spec.get(PREFIX + "group"), at, "gsd:group"),
        role,
        None if spec.get(PREFIX + "party") is None else _text(spec[PREFIX + "party"], at, "gsd:party"),
        _text(spec.get(PREFIX + "pair"), at, "gsd:pair"),
        values,
        labels,
        spec.get("categoriesOrdered") is True,
        tuple(aliases),
        dict(value_aliases),
        _translations(spec.get(PREFIX + "translations"), values, at),
    )


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _translations(spec, values, at: str) -> tuple[tuple[str, str | None, str, str], ...]:
    """`gsd:translations` of a field — {language: {"title", "description", "categories": {value:
    label}}} — as (language, value or None, label, description) rows."""
    if spec is None:
        return ()
    if not isinstance(spec, dict) or not all(isinstance(k, str) and LANGUAGE_CODE.match(k) for k in spec):
        raise InputError(f"{at}: gsd:translations must map language codes (e.g. fr) to texts")
    rows = []
    for language, texts in sorted(spec.items()):
        where = f"{at}, gsd:translations {language!r}"
        if not isinstance(texts, dict):
            raise InputError(f"{where}: must give a title, a description or categories")
        title = _text(texts.get("title"), where, "title")
        if title:
            rows.append((language, None, title, _text(texts.get("description"), where, "description")))
        categories = texts.get("categories") or {}
        if not isinstance(categories, dict):
            raise InputError(f"{where}: categories must map values to labels")
        for value, label in sorted(categories.items()):
            if values is not None and value not in values:
                raise InputError(f"{where}: {value!r} is not one of the field's categories")
            rows.append((language, value, _text(label, where, f"the label of {value!r}"), ""))
    return tuple(rows)


def _category_value(value, at: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"{at}: category {value!r} is neither text nor a whole number")
    return str(value).strip()


def _categories(categories, kind: str, at: str) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """(values, labels) of a field's `categories`, None when it lists none."""
    if categories is None:
        return None, ()
    if not isinstance(categories, list) or not categories:
        raise InputError(f"{at}: categories must be a non-empty list")
    values, labels = [], []
    for item in categories:
        value = _category_value(item.get("value") if isinstance(item, dict) else item, at)
        if value in values:
            raise InputError(f"{at}: category {value!r} is listed twice")
        label = item.get("label") if isinstance(item, dict) else None
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise InputError(f"{at}: the label of category {value!r} is not text")
        values.append(value)
        labels.append(label.strip() if label else (FLAG_LABEL if kind == "flag" and value == "1" else value))
    twice = sorted({lab for lab in labels if labels.count(lab) > 1})
    if twice:
        raise InputError(f"{at}: the label {twice[0]!r} is given to more than one category")
    if kind == "flag" and len(values) != 1:
        raise InputError(f"{at}: a flag has one category (the value that says yes), not {len(values)}")
    return tuple(values), tuple(labels)


def _group_labels(descriptor: dict, where: str) -> dict[str, str]:
    groups = descriptor.get(PREFIX + "groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in groups):
        raise InputError(f"{where}: gsd:groups must be a list of objects with a name")
    for g in groups:
        if g.get("denominator") not in (None, FLAG_DENOMINATOR):
            raise InputError(
                f"{where}: group {g['name']!r} has denominator {g['denominator']!r}; "
                f"only {FLAG_DENOMINATOR!r} (records with a flag of the group set) is known"
            )
    return {g["name"]: _text(g.get("title"), where, "a group's title") for g in groups if g.get("title")}


class Describer:
    """Where each column's metadata comes from (see the module's docstring); collects the
    warning lines of built-in entries that did not fit."""

    def __init__(self, own: CodebookFile | None = None):
        self.own = own
        self.builtin = builtin_codebook_file()
        self.warnings: list[str] = []
        self.group_labels = {**self.builtin.group_labels, **(own.group_labels if own else {})}

    def _own_entry(self, column: str) -> FieldEntry | None:
        return self.own.entry_for(column) if self.own else None

    def value_aliases(self, column: str) -> dict:
        entry = self._own_entry(column) or self.builtin.entry_for(column)
        return entry.value_aliases if entry else {}

    def entry(self, column: str, seen) -> FieldEntry | None:
        """The entry describing `column` given its values `seen`; None: infer it."""
        own = self._own_entry(column)
        if own is not None:
            reason = own.misfit(seen)
            if reason:
                raise InputError(f"{self.own.source}: column {column!r} does not fit its field {own.name!r}: {reason}")
            return own
        builtin = self.builtin.entry_for(column)
        reason = builtin.misfit(seen) if builtin else None
        if reason:
            self.warnings.append(
                f"column {column!r} does not fit the built-in CTDC codebook ({reason}): "
                "its kind, order and labels are inferred"
            )
            return None
        return builtin

    def attribute(self, column: str, entry: FieldEntry | None, seen) -> Attribute:
        return entry.attribute(column, seen, self.group_labels) if entry else infer_attribute(column, sorted(seen))

    def multi_value_entries(self, column: str, parts) -> list[FieldEntry]:
        """The flags standing for the values of a ';'-separated column, grouped under the column:
        in the order, and with the labels, of the entry describing the column when one fits the
        values, else sorted and labelled by the values themselves."""
        entry = self.entry(column, parts)
        labels = dict(zip(entry.values, entry.labels)) if entry and entry.values else {}
        order = [v for v in entry.values if v in parts] if entry and entry.values else sorted(parts)
        self.group_labels.setdefault(column, entry.title if entry and entry.title else humanize(column))
        party = entry.party if entry else None
        return [
            self._own_entry(f"{column}_{value}")
            or FieldEntry(
                f"{column}_{value}",
                title=labels.get(value, value),
                kind="flag",
                group=column,
                values=("1",),
                labels=(FLAG_LABEL,),
                party=party,
            )
            for value in order
        ]

    def check_all_used(self, columns, data_name: str) -> None:
        """A field of the release's codebook file that names no column is an error."""
        for entry in self.own.entries if self.own else ():
            if not any(c == entry.name or c in entry.aliases for c in columns):
                raise InputError(f"{self.own.source}: field {entry.name!r} is not a column of {data_name}")


@functools.lru_cache(maxsize=1)
def builtin_codebook_file() -> CodebookFile:
    """The shipped codebook of CTDC's columns."""
    return read_codebook_file(BUILTIN_CODEBOOK, check_standard=False)


# --- writing ----------------------------------------------------------------------------------


def descriptor_of(codebook: Codebook, release: dict, records_path: str) -> dict:
    """A store's codebook and release metadata as a Data Package descriptor (JSON-ready)."""
    name = release_meta.release_texts(release)["file_stem"]
    flag_groups = codebook.flag_groups()
    groups = [
        {"name": g, "title": members[0].group_label, **({"denominator": FLAG_DENOMINATOR} if g in flag_groups else {})}
        for g, members in codebook.groups().items()
    ]
    return {
        "name": name,
        **release_meta.to_descriptor(release),
        PREFIX + "groups": groups,
        "resources": [
            {
                "name": RECORDS_RESOURCE,
                "path": records_path,
                "format": "csv",
                "schema": {"fields": [_field(a) for a in codebook], "missingValues": MISSING_VALUES},
            }
        ],
    }


def _field(a: Attribute) -> dict:
    integer = a.kind in _INTEGER_KINDS and all(v.isdigit() for v in a.values)
    out = {"name": a.name, "title": a.label}
    if a.description:
        out["description"] = a.description
    out["type"] = "integer" if integer else "string"
    if a.values:
        out["categories"] = [
            {"value": int(v) if integer else v, "label": lab} for v, lab in zip(a.values, a.value_labels)
        ]
    out["categoriesOrdered"] = a.ordered
    if "0" in a.values:
        out["missingValues"] = [""]
    out.update({PREFIX + "kind": a.kind, PREFIX + "group": a.group, PREFIX + "party": a.party})
    if a.role:
        out.update({PREFIX + "role": a.role, PREFIX + "pair": a.pair})
    if a.translations:
        out[PREFIX + "translations"] = _translations_spec(a.translations)
    return out


def _translations_spec(rows) -> dict:
    """Attribute.translations as the descriptor's gsd:translations (the inverse of _translations)."""
    spec: dict = {}
    for language, value, label, description in rows:
        texts = spec.setdefault(language, {})
        if value is None:
            texts.update({"title": label, **({"description": description} if description else {})})
        else:
            texts.setdefault("categories", {})[value] = label
    return spec
