"""Which cards the Overview page draws for a codebook, and the counts behind them.

Every attribute of a release gets a card that suits its kind and group: the time attribute
(years or year bands) as the time axis, two demographic attributes as a heatmap, countries as
maps, every other categorical or ordinal attribute (regions among them) as bars, groups of flags
as shares of the group's denominator, flags in no such group as shares of all records; the
flows between an origin and a destination (their own cards, not planned here) close the subject's
section. Attributes the codebook gives to a party other than the release's subject (e.g. the
perpetrator's) form their own section, composed by the same rules. Two cached queries of the
data service serve every card: one scan with several group-bys (`grouping_counts`) and one for
the flag groups. No Dash, no SQL: components/overview.py draws the cards.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.filter_controls import EXPLOITATION_GROUP, PERSON_GROUP
from data.codebook import Attribute, Codebook
from data.store import Filter
from i18n import N_, _

TIME_GROUP = "time"
GROUP_NOTE = N_(
    "Percentages are of the records with at least one %(group)s recorded, the codebook's rule; "
    "a record can be in several categories, so the shares can add up to more than 100 %%."
)
FLAGS_NOTE = N_(
    "Percentages are of all records under the filter; a record can have several of these set, "
    "and a flag that is not set may just not have been recorded."
)
MAP_NOTE = N_(
    "A blank country has no record here, which can mean that its cases were suppressed to "
    "protect people, not that it has none."
)
# kinds of card, each drawn by its own view in components/overview.py
YEARS, PERSON, MAP, BARS, GROUP, FLAGS = "years", "person", "map", "bars", "group", "flags"


@dataclass(frozen=True)
class CardSpec:
    name: str
    title: str
    notes: tuple[str, ...] = ()
    wide: bool = False
    height: int = 380
    kind: str = ""
    attributes: tuple[Attribute, ...] = ()  # what the card draws, the time attribute first

    def counted_sets(self) -> list[tuple[str, ...]]:
        """The attribute sets whose grouped counts the card draws (a group's counts come apart)."""
        if self.kind == GROUP:
            return []
        if self.kind == FLAGS:
            return [(a.name,) for a in self.attributes]
        return [tuple(a.name for a in self.attributes)]


@dataclass(frozen=True)
class Plan:
    """Which charts a codebook supports, for one party's attributes and then the others'."""

    year: Attribute | None  # the time axis: a year, else a band of the time group
    exploitation: tuple[Attribute, ...]  # flags of the exploitation-type group
    person: tuple[Attribute, ...]  # up to two demographic attributes, drawn together
    countries: tuple[Attribute, ...]
    flag_groups: tuple[tuple[str, tuple[Attribute, ...]], ...]
    bars: tuple[Attribute, ...] = ()  # every other categorical, ordinal or year attribute
    flags: tuple[Attribute, ...] = ()  # flags in no group of flags
    party: str = ""  # "" for the release's subject
    others: tuple[Plan, ...] = ()  # one section per other party

    def sections(self) -> list[Plan]:
        return [self, *self.others]

    def section_cards(self) -> list[CardSpec]:
        """This section's cards, in page order."""
        prefix = f"{slug(self.party)}-" if self.party else ""
        out = []
        if self.year:
            title = (
                _("Records by %(attribute)s and type of exploitation", attribute=self.year.label.lower())
                if self.exploitation
                else _("Records by %(attribute)s", attribute=self.year.label.lower())
            )
            notes = (
                (_("Each record is counted once: under its one type, or under “more than one type”."),)
                if self.exploitation
                else ()
            )
            out.append(
                CardSpec(
                    prefix + "years", title, notes, wide=True, kind=YEARS, attributes=(self.year, *self.exploitation)
                )
            )
        if self.person:
            rows = len(self.person[-1].values) + 1
            names = [a.label.lower() for a in self.person]
            title = (
                _("Records by %(first)s and %(second)s", first=names[0], second=names[1])
                if len(names) > 1
                else _("Records by %(attribute)s", attribute=names[0])
            )
            out.append(
                CardSpec(
                    prefix + "person", title, height=max(380, 140 + 28 * rows), kind=PERSON, attributes=self.person
                )
            )
        out += [
            CardSpec(
                f"{prefix}map-{c.name}",
                _("Records by %(attribute)s", attribute=c.label.lower()),
                (_(MAP_NOTE),),
                kind=MAP,
                attributes=(c,),
            )
            for c in self.countries
        ]
        out += [
            CardSpec(
                f"{prefix}bars-{a.name}",
                _("Records by %(attribute)s", attribute=a.label.lower()),
                kind=BARS,
                attributes=(a,),
                height=bars_height(a),
            )
            for a in self.bars
        ]
        # a group of one flag has no denominator of its own to speak of: its share is of all records
        out += [
            CardSpec(
                f"{prefix}group-{slug(group)}",
                group_title(members),
                (_(GROUP_NOTE, group=group_noun(members)) if len(members) > 1 else _(FLAGS_NOTE),),
                kind=GROUP if len(members) > 1 else FLAGS,
                attributes=members,
                height=max(300, 110 + 48 * len(members)),
            )
            for group, members in self.flag_groups
        ]
        if self.flags:
            out.append(
                CardSpec(
                    prefix + "flags",
                    _("Records with each flag set"),
                    (_(FLAGS_NOTE),),
                    kind=FLAGS,
                    attributes=self.flags,
                    height=max(300, 110 + 48 * len(self.flags)),
                )
            )
        return out

    def cards(self) -> list[CardSpec]:
        """Every card of every section, in page order."""
        return [c for section in self.sections() for c in section.section_cards()]

    def sets(self) -> list[tuple[str, ...]]:
        """The attribute sets whose grouped counts the cards draw, each once."""
        return list(dict.fromkeys(s for c in self.cards() for s in c.counted_sets()))

    def group_names(self) -> list[str]:
        """The flag groups counted with their own denominator (those of two or more flags)."""
        return [group for section in self.sections() for group, members in section.flag_groups if len(members) > 1]

    def attributes(self) -> set[str]:
        """The names of every attribute some card draws."""
        return {a.name for c in self.cards() for a in c.attributes}


def plan(codebook: Codebook) -> Plan:
    parties = codebook.parties()
    subject = parties[0] if parties else ""
    others = tuple(section_plan(codebook, [a for a in codebook if a.party == party], party) for party in parties[1:])
    own = [a for a in codebook if a.party in ("", subject)]
    return section_plan(codebook, own, "", others)


def _time_axis(attributes: list[Attribute]) -> Attribute | None:
    years = [a for a in attributes if a.kind == "year" and a.values]
    bands = [a for a in attributes if a.group == TIME_GROUP and a.kind in ("ordinal", "categorical") and a.values]
    return (years or bands or [None])[0]


def section_plan(codebook: Codebook, attributes: list[Attribute], party: str, others: tuple = ()) -> Plan:
    """The cards of one party's `attributes` (the subject's when `party` is "")."""
    names = {a.name for a in attributes}
    every_group = codebook.flag_groups()
    # a group is counted whole (its denominator spans all its flags): drawn where its first flag is
    groups = [(g, tuple(members)) for g, members in every_group.items() if members[0].name in names]
    grouped = {a.name for members in every_group.values() for a in members}
    year = _time_axis(attributes)
    person = tuple(a for a in attributes if a.group == PERSON_GROUP and a.kind in ("categorical", "ordinal"))[:2]
    drawn = {a.name for a in (year, *person) if a is not None}
    return Plan(
        year=year,
        exploitation=tuple(a for a in attributes if a.group == EXPLOITATION_GROUP and a.kind == "flag"),
        person=person,
        countries=tuple(a for a in attributes if a.kind == "country"),
        flag_groups=tuple(groups),
        bars=tuple(a for a in attributes if a.kind in ("categorical", "ordinal", "year") and a.name not in drawn),
        flags=tuple(a for a in attributes if a.kind == "flag" and a.name not in grouped),
        party=party,
        others=others,
    )


def bars_height(attribute: Attribute) -> int:
    """Categorical attributes lie across (one row per value), ordered ones stand up."""
    return 380 if attribute.ordered else max(300, 110 + 36 * (len(attribute.values) + 1))


def slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def group_title(members: tuple[Attribute, ...]) -> str:
    return members[0].group_label


def group_noun(members: tuple[Attribute, ...]) -> str:
    """The group's title as it reads inside a sentence."""
    title = group_title(members)
    return title[:1].lower() + title[1:]


@dataclass(frozen=True)
class OverviewCounts:
    frames: dict  # attribute set (Plan.sets) -> its grouped counts
    flag_groups: dict  # group -> (records with any flag of it, flag -> records)
    total: int  # records under the filter


def fetch_counts(service, p: Plan, flt: Filter) -> OverviewCounts:
    """Every count the plan's cards need under filter `flt`: two cached queries."""
    sets = p.sets()
    frames = dict(zip(sets, service.grouping_counts(flt, sets)))
    groups = service.flag_groups_counts(flt, p.group_names()) if p.group_names() else {}
    total = int(next(iter(frames.values()))["count"].sum()) if frames else service.count(flt)
    return OverviewCounts(frames, groups, total)
