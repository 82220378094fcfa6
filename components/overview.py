"""Overview page: headline figures and the overview charts, all under one filter. Which cards
a store gets and the counts behind them: analysis/overview_plan.py; each kind of card has its
view here."""

from __future__ import annotations

from dataclasses import dataclass

from dash import html

from analysis.address import Query
from analysis.explore_counts import context
from analysis.filter_controls import controls, from_query
from analysis.overview_plan import (
    FLAGS,
    GROUP,
    MAP,
    PERSON,
    YEARS,
    CardSpec,
    Plan,
    fetch_counts,
    group_noun,
    group_title,
    plan,
    slug,
)
from components import charts, filters, flow_chart, ids
from components.common import headline
from data.codebook import NOT_RECORDED, Attribute
from i18n import N_, _, ngettext
from i18n.numbers import format_percent

PAGE = "overview"
PATH = "/"


# --- the views ------------------------------------------------------------------------------


def _labelled(attribute: Attribute, frame) -> list[tuple[str | None, str, int]]:
    """(value, label, count) in codebook order, not recorded last, from a one-attribute frame."""
    counts = {v: int(c) for v, c in zip(frame[attribute.name], frame["count"])}
    out = [(v, attribute.label_of(v), counts[v]) for v in attribute.values if counts.get(v)]
    if counts.get(None):
        out.append((None, _(NOT_RECORDED), counts[None]))
    return out


def _share(part: int, whole: int) -> str:
    return charts.fmt_percent(100.0 * part / whole) if whole else "–"


def years_view(year: Attribute, exploitation: tuple[Attribute, ...], frame, title: str) -> charts.ChartView:
    """Records per year (or year band), stacked by type of exploitation when the release has one."""
    flag_names = [a.name for a in exploitation]
    rows = list(
        zip(frame[year.name], zip(*(frame[n] for n in flag_names)) if flag_names else [()] * len(frame), frame["count"])
    )
    per_year: dict = {}
    for y, _flags, count in rows:
        per_year[y] = per_year.get(y, 0) + int(count)
    present = [v for v in year.values if per_year.get(v)]
    if not present and not per_year.get(None):
        return charts.empty_view(title)
    # every year from the first to the last present, so gaps show as gaps
    keys = list(year.values[year.values.index(present[0]) : year.values.index(present[-1]) + 1]) if present else []
    span = list(keys)
    if per_year.get(None):
        keys.append(None)
    categories = [year.label_of(v) for v in keys]
    index = {k: i for i, k in enumerate(keys)}
    if exploitation:
        parts = {n: [0] * len(keys) for n in flag_names + ["several", "none"]}
        for y, flags, count in rows:
            set_flags = [n for n, v in zip(flag_names, flags) if v is not None]
            part = set_flags[0] if len(set_flags) == 1 else ("several" if set_flags else "none")
            parts[part][index[y]] += int(count)
        series = [
            charts.Series(_("%(type)s only", type=a.label), parts[a.name], charts.OKABE_ITO[i])
            for i, a in enumerate(exploitation)
        ]
        series += [
            charts.Series(_("More than one type"), parts["several"], charts.OKABE_ITO[4]),
            charts.Series(_("Type not recorded"), parts["none"], charts.NOT_RECORDED_COLOUR),
        ]
    else:
        series = [charts.Series(_("records"), [per_year.get(k, 0) for k in keys])]
    return charts.bar_chart(
        title, categories, series, category_title=year.label, stacked=True, summary=years_summary(year, per_year, span)
    )


def years_summary(year: Attribute, per_year: dict, span: list) -> str:
    total = sum(per_year.values())
    noun = _("year") if year.kind == "year" else year.label.lower()
    summary = ngettext("%(num)s record", "%(num)s records", total)
    if span:
        busiest = max(span, key=lambda v: per_year.get(v, 0))
        summary = ngettext(
            "%(num)s record, registered from %(first)s to %(last)s; the busiest %(period)s is "
            "%(busiest)s with %(most)s",
            "%(num)s records, registered from %(first)s to %(last)s; "
            "the busiest %(period)s is %(busiest)s with %(most)s",
            total,
            first=year.label_of(span[0]),
            last=year.label_of(span[-1]),
            period=noun,
            busiest=year.label_of(busiest),
            most=charts.fmt_count(per_year.get(busiest, 0)),
        )
    if not per_year.get(None):
        return summary + "."
    # "have": of the records; English uses one form, other languages their own.
    return summary + ngettext(
        "; %(num)s have no %(period)s recorded.", "; %(num)s have no %(period)s recorded.", per_year[None], period=noun
    )


def person_view(person: tuple[Attribute, ...], frame, title: str) -> charts.ChartView:
    if len(person) == 1:
        return bars_view(person[0], frame, title)
    # the first attribute across (few values, e.g. gender), the second down (e.g. age bands)
    across, down = person
    lookup = {(d, a): int(c) for a, d, c in zip(frame[across.name], frame[down.name], frame["count"])}
    row_keys = [r for r in list(down.values) + [None] if any(v for (d, _), v in lookup.items() if d == r)]
    col_keys = [c for c in list(across.values) + [None] if any(v for (_, a), v in lookup.items() if a == c)]
    matrix = [[lookup.get((r, c), 0) for c in col_keys] for r in row_keys]
    total = sum(map(sum, matrix))
    if not total:
        return charts.empty_view(title)
    both = [(rc, n) for rc, n in lookup.items() if None not in rc and n]
    missing_down = sum(n for (d, _), n in lookup.items() if d is None)
    summary = ""
    if both:
        (d, a), n = max(both, key=lambda item: item[1])
        summary = (
            ngettext(
                "The largest group with both recorded: %(first)s, %(second)s (%(num)s record).",
                "The largest group with both recorded: %(first)s, %(second)s (%(num)s records).",
                n,
                first=across.label_of(a),
                second=down.label_of(d),
            )
            + " "
        )
    summary += ngettext(
        "%(attribute)s is not recorded for %(share)s of %(num)s record.",
        "%(attribute)s is not recorded for %(share)s of %(num)s records.",
        total,
        attribute=down.label,
        share=_share(missing_down, total),
    )
    return charts.heatmap_chart(
        title,
        [across.label_of(c) for c in col_keys],
        [down.label_of(r) for r in row_keys],
        matrix,
        x_title=across.label,
        y_title=down.label,
        summary=summary,
    )


def map_view(attribute: Attribute, frame, title: str) -> charts.ChartView:
    rows = [r for r in _labelled(attribute, frame) if r[0] is not None]
    total = int(frame["count"].sum())
    missing = total - sum(r[2] for r in rows)
    view = charts.choropleth_chart(
        title, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], place_title=attribute.label
    )
    if not rows:
        return view
    top = max(rows, key=lambda r: r[2])
    summary = (
        ngettext(
            "%(num)s country has records; the most: %(country)s with %(count)s (%(share)s of all).",
            "%(num)s countries have records; the most: %(country)s with %(count)s (%(share)s of all).",
            len(rows),
            country=top[1],
            count=charts.fmt_count(top[2]),
            share=_share(top[2], total),
        )
        + " "
        + ngettext(
            "%(attribute)s is not recorded or suppressed for %(num)s record (%(share)s).",
            "%(attribute)s is not recorded or suppressed for %(num)s records (%(share)s).",
            missing,
            attribute=attribute.label,
            share=_share(missing, total),
        )
    )
    return charts.ChartView(view.figure, summary, view.table)


def bars_view(attribute: Attribute, frame, title: str) -> charts.ChartView:
    """Records per value in codebook order: ordered values stand up, categories lie across."""
    rows = _labelled(attribute, frame)
    recorded = [r for r in rows if r[0] is not None]
    total = sum(r[2] for r in rows)
    summary = None
    if recorded:
        top = max(recorded, key=lambda r: r[2])
        known = sum(r[2] for r in recorded)
        summary = ngettext(
            "The most frequent %(attribute)s: %(value)s, with %(count)s records (%(share)s of those "
            "with one recorded); not recorded for %(missing)s of %(num)s record.",
            "The most frequent %(attribute)s: %(value)s, with %(count)s records (%(share)s of those "
            "with one recorded); not recorded for %(missing)s of %(num)s records.",
            total,
            attribute=attribute.label.lower(),
            value=top[1],
            count=charts.fmt_count(top[2]),
            share=_share(top[2], known),
            missing=charts.fmt_count(total - known),
        )
    return charts.bar_chart(
        title,
        [r[1] for r in rows],
        [charts.Series(_("records"), [r[2] for r in rows])],
        category_title=attribute.label,
        horizontal=not attribute.ordered,
        summary=summary,
    )


def group_view(members: tuple[Attribute, ...], counts: tuple[int, dict[str, int]], title: str) -> charts.ChartView:
    group = group_noun(members)
    denominator, per_flag = counts
    if not denominator:
        return charts.empty_view(title, _("No record under the current filter has a %(group)s recorded.", group=group))
    order = sorted(members, key=lambda a: -per_flag.get(a.name, 0))
    labels = [a.label for a in order]
    values = [per_flag.get(a.name, 0) for a in order]
    total_share = 100.0 * sum(values) / denominator
    summary = ngettext(
        "Of %(num)s record with at least one %(group)s recorded, %(label)s is the most frequent (%(share)s)",
        "Of %(num)s records with at least one %(group)s recorded, %(label)s is the most frequent (%(share)s)",
        denominator,
        group=group,
        label=labels[0],
        share=_share(values[0], denominator),
    )
    summary += (
        _("; the shares add up to %(total)s because categories overlap.", total=format_percent(total_share, 0))
        if total_share >= 100.5
        else "."
    )
    return charts.bar_chart(
        title,
        labels,
        [charts.Series(_("records"), values)],
        category_title=group_title(members),
        horizontal=True,
        denominator=denominator,
        summary=summary,
    )


def flags_view(flags: tuple[Attribute, ...], frames: dict, total: int, title: str) -> charts.ChartView:
    """Flags in no group: how many records have each set, as a share of all records."""
    if not total:
        return charts.empty_view(title)
    per_flag = {
        a.name: sum(int(c) for v, c in zip(frames[(a.name,)][a.name], frames[(a.name,)]["count"]) if v is not None)
        for a in flags
    }
    order = sorted(flags, key=lambda a: -per_flag[a.name])
    top = order[0]
    count, share = charts.fmt_count(per_flag[top.name]), _share(per_flag[top.name], total)
    summary = (
        ngettext(
            "Of %(num)s record, %(flag)s is set for the most (%(count)s, %(share)s).",
            "Of %(num)s records, %(flag)s is set for the most (%(count)s, %(share)s).",
            total,
            flag=top.label,
            count=count,
            share=share,
        )
        if len(flags) > 1
        else ngettext(
            "Of %(num)s record, %(count)s (%(share)s) has %(flag)s set.",
            "Of %(num)s records, %(count)s (%(share)s) have %(flag)s set.",
            total,
            flag=top.label,
            count=count,
            share=share,
        )
    )
    shares = charts.Series(_("records"), [per_flag[a.name] for a in order])
    return charts.bar_chart(
        title,
        [a.label for a in order],
        [shares],
        category_title=_("Flag"),
        horizontal=True,
        denominator=total,
        summary=summary,
    )


@dataclass(frozen=True)
class OverviewData:
    headlines: list
    views: dict[str, charts.ChartView]


def card_view(card: CardSpec, counts) -> charts.ChartView:
    """The view of one card of the plan, from the counts `fetch_counts` gave."""
    attributes, frames = card.attributes, counts.frames
    if card.kind == GROUP:
        return group_view(attributes, counts.flag_groups[attributes[0].group], card.title)
    if card.kind == FLAGS:
        return flags_view(attributes, frames, counts.total, card.title)
    frame = frames[card.counted_sets()[0]]
    if card.kind == YEARS:
        return years_view(attributes[0], attributes[1:], frame, card.title)
    if card.kind == PERSON:
        return person_view(attributes, frame, card.title)
    if card.kind == MAP:
        return map_view(attributes[0], frame, card.title)
    return bars_view(attributes[0], frame, card.title)


def compute(service, flt) -> OverviewData:
    """Headlines and every card's view for filter `flt`."""
    store = service.store()
    p = plan(store.codebook)
    counts = fetch_counts(service, p, flt)
    views = {card.name: card_view(card, counts) for card in p.cards()}
    views.update(flow_chart.flow_views(context(service), flt))
    return OverviewData(headline_figures(store.release, p, counts.frames, counts.total, bool(flt)), views)


def headline_figures(release: dict, p: Plan, frames: dict, total: int, filtered: bool) -> list:
    out = [
        headline(
            ngettext("synthetic record matches the filter", "synthetic records match the filter", total)
            if filtered
            else _("synthetic records"),
            charts.fmt_count(total),
            _("of %(count)s in the release", count=charts.fmt_count(release["synthetic_record_count"]))
            if filtered
            else "",
        )
    ]
    if release.get("protected_record_count") is not None:
        out.append(
            headline(
                _("protected record count"),
                charts.fmt_count(release["protected_record_count"]),
                _("whole release, differentially private"),
            )
        )
    for c in p.countries:
        n = sum(1 for v, count in zip(frames[(c.name,)][c.name], frames[(c.name,)]["count"]) if v is not None and count)
        out.append(headline(_("countries (%(attribute)s)", attribute=c.label.lower()), charts.fmt_count(n)))
    if p.year:
        frame = frames[tuple(a.name for a in (p.year, *p.exploitation))]
        seen = {v for v, count in zip(frame[p.year.name], frame["count"]) if count}
        present = [p.year.label_of(v) for v in p.year.values if v in seen]
        span = (
            (
                f"{present[0]}–{present[-1]}"
                if p.year.kind == "year"
                else _("%(first)s to %(last)s", first=present[0], last=present[-1])
            )
            if len(present) > 1
            else (present or ["–"])[0]
        )
        out.append(
            headline(
                _("%(attribute)s covered", attribute=p.year.label.lower()),
                span,
                ngettext("%(num)s year with records", "%(num)s years with records", len(present))
                if p.year.kind == "year"
                else ngettext("%(num)s period with records", "%(num)s periods with records", len(present)),
            )
        )
    return out


# --- the page -------------------------------------------------------------------------------

PARTY_TITLES = {"victim": N_("Victims"), "perpetrator": N_("Perpetrators")}


def party_title(party: str) -> str:
    """'perpetrator' → 'Perpetrators' (a party the catalogue does not know: its name, capitalised)."""
    if party in PARTY_TITLES:
        return _(PARTY_TITLES[party])
    title = party[:1].upper() + party[1:]
    return title if title.endswith("s") else title + "s"


def section_grid(section: Plan, views: dict, extra=()):
    """The section's cards, then `extra` cards (the subject's section ends with the flows)."""
    return html.Div(
        className="chart-grid",
        children=[
            charts.card(
                c.name,
                c.title,
                views.get(c.name),
                group=PAGE,
                notes=c.notes,
                wide=c.wide,
                height=c.height,
                level=3 if section.party else 2,
            )
            for c in section.section_cards()
        ]
        + list(extra),
    )


def party_section(section: Plan, views: dict):
    """The cards of another party's attributes (e.g. the perpetrators'), under their own heading."""
    heading = f"{PAGE}-party-{slug(section.party)}"
    return html.Section(
        className="party-section",
        **{"aria-labelledby": heading},
        children=[
            html.H2(party_title(section.party), id=heading, className="party-title"),
            html.P(
                _(
                    "Attributes the codebook gives to the %(party)s, under the same filters.",
                    party=party_title(section.party).lower(),
                ),
                className="lead",
            ),
            section_grid(section, views),
        ],
    )


def layout(service, search: Query):
    store = service.store()
    codebook = store.codebook
    values, mapping, _notices = from_query(codebook, controls(codebook), search)
    data = compute(service, store.filter(mapping))
    p = plan(codebook)
    return html.Div(
        className="overview",
        children=[
            html.H1(_("Overview")),
            html.P(
                _(
                    "Every attribute of the release's synthetic records, in a chart that suits it. "
                    "Every chart follows the filters."
                ),
                className="lead",
            ),
            filters.panel(PAGE, PATH, codebook, values, mapping),
            html.Div(data.headlines, id=ids.OVERVIEW_HEADLINES, className="headlines", **{"aria-live": "polite"}),
            section_grid(p, data.views, flow_chart.cards(codebook, data.views, PAGE)),  # flows close the subject's
            *[party_section(other, data.views) for other in p.others],
        ],
    )
