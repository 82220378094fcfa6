"""The codebook: what each attribute of a release means and in which order its values go.

The store, the pages and the downloads are driven by a `Codebook`, never by hard-coded column
names. Metadata comes from a codebook file (a Data Package descriptor, `data/codebook_file.py`):
the release's own, or the built-in one for CTDC's columns when a column's values fit it. Whatever
no file describes is inferred here from the values: kind, order, labels, role and party.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from data.countries import country_name
from i18n import N_, gettext

KINDS = ("categorical", "ordinal", "flag", "year", "country")
ROLES = ("", "origin", "destination")  # one end of a movement (e.g. citizenship → exploitation)
NOT_RECORDED = N_("not recorded")  # label of a missing value wherever it is shown (translated)
FLAG_LABEL = N_("Yes")  # how a set flag reads
DEFAULT_GROUP = "other"
MAX_DISTINCT_VALUES = 1000


def humanize(name: str) -> str:
    """'perpetratorGender' → 'Perpetrator gender'; 'age_band' → 'Age band'."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_\-]+", " ", name).strip()
    if not words:
        return name
    parts = words.split()
    # Lower-case the inner words that are plain capitalised words, keep acronyms ("ISO").
    parts = [parts[0]] + [p.lower() if p[:1].isupper() and p[1:].islower() else p for p in parts[1:]]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Attribute:
    name: str
    label: str
    description: str
    group: str
    kind: str
    values: tuple[str, ...]
    value_labels: tuple[str, ...]
    group_label: str = ""  # the group's title; by default the group's name, capitalised
    role: str = ""  # origin or destination of a movement, or ""
    party: str = ""  # whose attribute it is (e.g. victim, perpetrator), or "" when unknown
    pair: str = ""  # the attribute at the movement's other end, when role is set
    # The release's own texts in other languages: (language, value or None for the attribute
    # itself, label, description) — data/localized.py shows them.
    translations: tuple[tuple[str, str | None, str, str], ...] = field(default=(), compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} for {self.name}")
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} for {self.name}")
        if len(self.values) != len(self.value_labels):
            raise ValueError(f"{self.name}: values and labels differ in length")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"{self.name}: duplicate values")
        if not self.group_label:
            object.__setattr__(self, "group_label", self.group[:1].upper() + self.group[1:])

    @property
    def ordered(self) -> bool:
        """Whether the value order means something (young to old, early to late)."""
        return self.kind in ("ordinal", "year")

    def label_of(self, value: str | None) -> str:
        if value is None:
            return gettext(NOT_RECORDED)
        return self.value_labels[self.values.index(value)]


@dataclass(frozen=True)
class Codebook:
    attributes: tuple[Attribute, ...]
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {a.name: a for a in self.attributes})
        if len(self._by_name) != len(self.attributes):
            raise ValueError("duplicate attribute names in codebook")

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.attributes]

    def __getitem__(self, name: str) -> Attribute:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown attribute {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self.attributes)

    def __len__(self):
        return len(self.attributes)

    def groups(self) -> dict[str, list[Attribute]]:
        out: dict[str, list[Attribute]] = {}
        for a in self.attributes:
            out.setdefault(a.group, []).append(a)
        return out

    def flag_groups(self) -> dict[str, list[Attribute]]:
        """Groups made only of flags (a record can have several set): percentages within such a
        group are taken over the records with at least one flag of the group set."""
        return {
            g: members
            for g, members in self.groups().items()
            if g != DEFAULT_GROUP and all(a.kind == "flag" for a in members)
        }

    def flows(self) -> list[tuple[Attribute, Attribute]]:
        """(origin, destination) pairs, e.g. (citizenship, country of exploitation)."""
        return [
            (a, self[a.pair])
            for a in self.attributes
            if a.role == "origin" and a.pair in self and self[a.pair].role == "destination"
        ]

    def parties(self) -> list[str]:
        """Whose attributes the release holds, in codebook order (e.g. victim, perpetrator)."""
        return list(dict.fromkeys(a.party for a in self.attributes if a.party))


# --- inference --------------------------------------------------------------------------------

_YEAR = re.compile(r"^(1[89]|20|21)\d\d$")
_YEAR_BAND = re.compile(r"^(1[89]|20|21)\d\d\s*(--?|–|—|to)\s*((1[89]|20|21)\d\d|\d\d)$|^(1[89]|20|21)\d\d\s*\+$")
_COUNTRY = re.compile(r"^[A-Z]{3}$")
_LEADING_NUMBER = re.compile(r"^(\d+)")
_ORIGIN_WORDS = re.compile(r"origin|citizenship|nationality|birth", re.IGNORECASE)
_DESTINATION_WORDS = re.compile(r"exploitation|destination", re.IGNORECASE)
_PARTIES = (
    ("perpetrator", re.compile(r"perpetrator|^perp|offender|trafficker", re.IGNORECASE)),
    ("victim", re.compile(r"victim|survivor", re.IGNORECASE)),
)


def natural_key(value: str):
    m = _LEADING_NUMBER.match(value)
    return (0, int(m.group(1)), value) if m else (1, 0, value)


def is_year(value: str) -> bool:
    return bool(_YEAR.match(value))


def is_country_code(value: str) -> bool:
    return bool(_COUNTRY.match(value))


def infer_kind(seen: list[str]) -> str:
    if seen and all(is_year(v) for v in seen):
        return "year"
    if len(seen) == 1:
        return "flag"
    if seen and all(is_country_code(v) for v in seen) and any(country_name(v) != v for v in seen):
        return "country"
    if seen and all(_LEADING_NUMBER.match(v) for v in seen):
        return "ordinal"
    return "categorical"


def ordered_values(kind: str, seen) -> tuple[str, ...]:
    """An open domain's values in a natural order: countries by code, others numbers first."""
    return tuple(sorted(seen)) if kind == "country" else tuple(sorted(seen, key=natural_key))


def value_labels(kind: str, values) -> tuple[str, ...]:
    if kind == "country":
        return tuple(country_name(v) for v in values)
    if kind == "flag":
        return tuple(FLAG_LABEL if v == "1" else v for v in values)
    return tuple(values)


def infer_party(name: str) -> str:
    return next((party for party, pattern in _PARTIES if pattern.search(name)), "")


def infer_role(name: str) -> str:
    if _ORIGIN_WORDS.search(name):
        return "origin"
    if _DESTINATION_WORDS.search(name):
        return "destination"
    return ""


def infer_attribute(column: str, seen: list[str]) -> Attribute:
    """Metadata for a column no codebook file describes, from its distinct non-missing values."""
    kind = infer_kind(seen)
    values = ordered_values(kind, seen)
    in_time = kind == "year" or (bool(seen) and all(_YEAR_BAND.match(v) for v in seen))
    role = infer_role(column) if kind in ("country", "categorical") else ""
    return Attribute(
        column,
        humanize(column),
        "",
        "time" if in_time else DEFAULT_GROUP,
        kind,
        values,
        value_labels(kind, values),
        role=role,
        party=infer_party(column),
    )


def pair_roles(attributes: list[Attribute]) -> list[Attribute]:
    """Pairs the one inferred origin with the one inferred destination of the same kind; a role
    with no such partner is dropped (a lone "origin" is just an attribute)."""
    unpaired = [a for a in attributes if a.role and not a.pair]
    out = []
    for a in attributes:
        if a in unpaired:
            partners = [b for b in unpaired if b.kind == a.kind and b.role not in ("", a.role)]
            same = [b for b in unpaired if b.kind == a.kind and b.role == a.role]
            a = replace(a, pair=partners[0].name) if len(partners) == 1 and len(same) == 1 else replace(a, role="")
        out.append(a)
    return out


def multi_value_flag(column: str, value: str, group_label: str, party: str = "") -> Attribute:
    """One value of a ';'-separated column as a flag: labelled by the value, grouped by the column."""
    return Attribute(
        f"{column}_{value}",
        value,
        "",
        column,
        "flag",
        ("1",),
        (FLAG_LABEL,),
        group_label=group_label,
        party=party or infer_party(column),
    )


# --- the built-in codebook's flag groups ------------------------------------------------------

BUILTIN_CODEBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "codebooks", "ctdc.datapackage.json")
FLAG_DENOMINATOR = "any-flag-set"  # the only rule: records with at least one flag of the group set
