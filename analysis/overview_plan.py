"""Which cards the Overview page draws for a codebook, and the counts behind them.

What is drawn comes from the store's codebook (kinds and groups), so a store without, say, a
year attribute or a recruiter group simply has fewer cards. Two cached queries of the data
service serve every card: one scan with several group-bys (`grouping_counts`) and one for the
flag groups. No Dash, no SQL: components/overview.py draws the cards.
"""
from __future__ import annotations

from dataclasses import dataclass

from analysis.filter_controls import EXPLOITATION_GROUP, PERSON_GROUP
from data.codebook import FLAG_GROUPS, Attribute, Codebook
from data.store import Filter

GROUP_NOTE = ("Percentages are of the records with at least one {group} recorded, the codebook's rule; "
              "a record can be in several categories, so the shares can add up to more than 100 %.")
MAP_NOTE = ("A blank country has no record here, which can mean that its cases were suppressed to "
            "protect people, not that it has none.")


@dataclass(frozen=True)
class CardSpec:
    name: str
    title: str
    notes: tuple[str, ...] = ()
    wide: bool = False
    height: int = 380


@dataclass(frozen=True)
class Plan:
    """Which charts a codebook supports."""
    year: Attribute | None
    exploitation: tuple[Attribute, ...]         # flags of the exploitation-type group
    person: tuple[Attribute, ...]               # up to two demographic attributes, drawn together
    countries: tuple[Attribute, ...]
    flag_groups: tuple[tuple[str, tuple[Attribute, ...]], ...]

    def sets(self) -> list[tuple[str, ...]]:
        out = []
        if self.year:
            out.append((self.year.name,) + tuple(a.name for a in self.exploitation))
        if self.person:
            out.append(tuple(a.name for a in self.person))
        out += [(c.name,) for c in self.countries]
        return out

    def cards(self) -> list[CardSpec]:
        """Every card, in page order."""
        out = []
        if self.year:
            title = f"Records by {self.year.label.lower()}" + (" and type of exploitation" if self.exploitation else "")
            notes = ("Each record is counted once: under its one type, or under “more than one type”.",) \
                if self.exploitation else ()
            out.append(CardSpec("years", title, notes, wide=True))
        if self.person:
            rows = len(self.person[-1].values) + 1
            out.append(CardSpec("person", "Records by " + " and ".join(a.label.lower() for a in self.person),
                                height=max(380, 140 + 28 * rows)))
        out += [CardSpec(f"map-{c.name}", f"Records by {c.label.lower()}", (MAP_NOTE,)) for c in self.countries]
        out += [CardSpec(f"group-{slug(group)}", group_title(group), (GROUP_NOTE.format(group=group),),
                         height=max(300, 110 + 48 * len(members))) for group, members in self.flag_groups]
        return out


def plan(codebook: Codebook) -> Plan:
    year = next((a for a in codebook if a.kind == "year"), None)
    groups: dict[str, list[Attribute]] = {}
    for a in codebook:
        if a.kind == "flag" and a.group in FLAG_GROUPS:      # the groups the codebook's percentage rule covers
            groups.setdefault(a.group, []).append(a)
    return Plan(
        year=year,
        exploitation=tuple(groups.get(EXPLOITATION_GROUP, ())),
        person=tuple(a for a in codebook if a.group == PERSON_GROUP
                     and a.kind in ("categorical", "ordinal"))[:2],
        countries=tuple(a for a in codebook if a.kind == "country"),
        flag_groups=tuple((g, tuple(members)) for g, members in groups.items()),
    )


def slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def group_title(group: str) -> str:
    return group[:1].upper() + group[1:]


@dataclass(frozen=True)
class OverviewCounts:
    frames: dict          # attribute set (Plan.sets) -> its grouped counts
    flag_groups: dict     # group -> (records with any flag of it, flag -> records)
    total: int            # records under the filter


def fetch_counts(service, p: Plan, flt: Filter) -> OverviewCounts:
    """Every count the plan's cards need under filter `flt`: two cached queries."""
    sets = p.sets()
    frames = dict(zip(sets, service.grouping_counts(flt, sets)))
    groups = service.flag_groups_counts(flt, [g for g, _ in p.flag_groups]) if p.flag_groups else {}
    total = int(next(iter(frames.values()))["count"].sum()) if frames else service.count(flt)
    return OverviewCounts(frames, groups, total)
