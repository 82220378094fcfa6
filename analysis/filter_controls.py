"""The filter controls of the Overview and Downloads pages, as values: which controls a store
gets, and their values translated to a filter mapping (attribute -> values, the JSON form of a
`Filter`) and back. No Dash here: the panel itself is components/filters.py, the callback keeping
controls, filter and address in step callbacks/filters.py.

Which controls a store gets comes from its codebook: a year range for the year attribute, a
multiple choice for each demographic attribute and each country attribute, and one choice among
the flags of the exploitation-type group.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.address import NOT_RECORDED_TOKEN, Query, decode
from data.codebook import Attribute, Codebook
from data.store import FilterError
from i18n import N_, _

# Codebook groups (engine metadata, not column names) whose attributes become filters.
PERSON_GROUP = "demographics"
EXPLOITATION_GROUP = "exploitation type"
FLAG_GROUP_PREFIX = "group:"


@dataclass(frozen=True)
class Control:
    name: str  # id key: the attribute's name, or "group:<group>" for a flag group
    kind: str  # "years" (range), "values" (several values), "flags" (one flag of a group)
    label: str
    attributes: tuple[Attribute, ...]


def controls(codebook: Codebook) -> list[Control]:
    out = []
    year = next((a for a in codebook if a.kind == "year" and a.values), None)
    if year is not None:
        out.append(Control(year.name, "years", year.label, (year,)))
    out += [
        Control(a.name, "values", a.label, (a,))
        for a in codebook
        if a.group == PERSON_GROUP and a.kind in ("categorical", "ordinal")
    ]
    flags = tuple(a for a in codebook if a.group == EXPLOITATION_GROUP and a.kind == "flag")
    if flags:
        out.append(Control(FLAG_GROUP_PREFIX + EXPLOITATION_GROUP, "flags", N_("Type of exploitation"), flags))
    out += [Control(a.name, "values", a.label, (a,)) for a in codebook if a.kind == "country"]
    return out


# --- values <-> filter mapping ------------------------------------------------------------------


def years_of(attribute: Attribute) -> list[int]:
    return [int(v) for v in attribute.values]


def text_choices(value) -> list[str]:
    """The strings a multi-choice control's value holds. Values arrive from the browser, so a
    lone string counts as one choice and anything that is not text is ignored."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def chosen_values(value, known) -> list[str | None]:
    """The values among `known` a multi-choice control's value picks, "not recorded" as None
    (anything else it holds is ignored)."""
    return [
        None if v == NOT_RECORDED_TOKEN else v for v in text_choices(value) if v == NOT_RECORDED_TOKEN or v in known
    ]


def _year_range(value) -> tuple[int, int] | None:
    numbers = value if isinstance(value, list) and len(value) == 2 else []
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e6 for v in numbers):
        return None
    return tuple(sorted(int(v) for v in numbers)) if numbers else None


def mapping_from_values(ctrls: list[Control], values: dict) -> dict[str, list[str | None]]:
    """The filter mapping the controls' values stand for (controls left open add nothing)."""
    mapping: dict[str, list[str | None]] = {}
    for c in ctrls:
        value = values.get(c.name)
        if c.kind == "years":
            years = years_of(c.attributes[0])
            bounds = _year_range(value)
            if bounds is None:
                continue
            low, high = bounds
            if low <= years[0] and high >= years[-1]:
                continue  # the whole range: records without a year stay in
            chosen = [v for v, y in zip(c.attributes[0].values, years) if low <= y <= high]
            mapping[c.name] = chosen
        elif c.kind == "values":
            chosen = chosen_values(value, c.attributes[0].values)
            if chosen:
                mapping[c.name] = chosen
        elif c.kind == "flags":
            if value == NOT_RECORDED_TOKEN:
                mapping.update({a.name: [None] for a in c.attributes})
            else:
                flag = next((a for a in c.attributes if a.name == value), None)
                if flag is not None:
                    mapping[flag.name] = [flag.values[0]]
    return mapping


def values_from_mapping(ctrls: list[Control], mapping: dict[str, list[str | None]]) -> tuple[dict, list[str]]:
    """Control values showing `mapping`, and a notice for each part of it the controls cannot
    show (which is then left out)."""
    values: dict = {}
    notices: list[str] = []
    for c in ctrls:
        if c.kind == "years":
            attribute = c.attributes[0]
            years = years_of(attribute)
            chosen = [int(v) for v in mapping.get(c.name, []) if v is not None]
            if not chosen:
                if c.name in mapping:
                    notices.append(
                        _(
                            "%(attribute)s: only a range of years can be chosen here; the filter on "
                            "records without a year was left out.",
                            attribute=attribute.label,
                        )
                    )
                values[c.name] = [years[0], years[-1]]
                continue
            low, high = min(chosen), max(chosen)
            if None in mapping[c.name] or len(chosen) != sum(low <= y <= high for y in years):
                notices.append(
                    _(
                        "%(attribute)s: only a range of years can be chosen here; showing %(low)s–%(high)s.",
                        attribute=attribute.label,
                        low=low,
                        high=high,
                    )
                )
            values[c.name] = [low, high]
        elif c.kind == "values":
            values[c.name] = [NOT_RECORDED_TOKEN if v is None else v for v in mapping.get(c.name, [])]
        elif c.kind == "flags":
            chosen = {a.name: mapping[a.name] for a in c.attributes if a.name in mapping}
            set_flags = [a.name for a in c.attributes if chosen.get(a.name) == [a.values[0]]]
            if not chosen:
                values[c.name] = None
            elif len(chosen) == len(c.attributes) and all(v == [None] for v in chosen.values()):
                values[c.name] = NOT_RECORDED_TOKEN
            elif len(chosen) == 1 and len(set_flags) == 1:
                values[c.name] = set_flags[0]
            else:
                values[c.name] = set_flags[0] if set_flags else None
                kept = next((a.label for a in c.attributes if a.name == values[c.name]), None)
                notices.append(
                    _("%(control)s: one type can be chosen here; kept %(kept)s.", control=_(c.label), kept=kept)
                    if kept
                    else _("%(control)s: one type can be chosen here; the filter was left out.", control=_(c.label))
                )
    return values, notices


def from_query(codebook: Codebook, ctrls: list[Control], query: Query) -> tuple[dict, dict, list[str]]:
    """(control values, filter mapping, notices) for an address: what the controls can show of
    it, and a notice for everything left out."""
    shown = [a.name for c in ctrls for a in c.attributes]
    address = decode(query, codebook, attributes=shown)
    values, more = values_from_mapping(ctrls, address.filter.as_dict())
    return values, mapping_from_values(ctrls, values), list(address.notices) + more


def current_filter(service, mapping: dict | None):
    """The service's filter for `mapping`; no filter when the mapping no longer fits the store
    (one from before the store was replaced)."""
    try:
        return service.filter(mapping or {})
    except FilterError:
        return service.filter({})
