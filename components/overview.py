"""Overview page: headline figures and the overview charts, all under one filter. Which cards
a store gets and the counts behind them: analysis/overview_plan.py."""
from __future__ import annotations

from dataclasses import dataclass

from dash import html

from analysis.address import Query
from analysis.explore_counts import context
from analysis.filter_controls import controls, from_query
from analysis.overview_plan import Plan, fetch_counts, group_title, plan, slug
from components import charts, filters, flow_chart, ids
from components.common import headline
from data.codebook import NOT_RECORDED, Attribute

PAGE = "overview"
PATH = "/"


# --- the views ------------------------------------------------------------------------------

def _labelled(attribute: Attribute, frame) -> list[tuple[str | None, str, int]]:
    """(value, label, count) in codebook order, not recorded last, from a one-attribute frame."""
    counts = {v: int(c) for v, c in zip(frame[attribute.name], frame["count"])}
    out = [(v, attribute.label_of(v), counts[v]) for v in attribute.values if counts.get(v)]
    if counts.get(None):
        out.append((None, NOT_RECORDED, counts[None]))
    return out


def _share(part: int, whole: int) -> str:
    return charts.fmt_percent(100.0 * part / whole) if whole else "–"


def years_view(p: Plan, frame, title: str) -> charts.ChartView:
    year = p.year
    flag_names = [a.name for a in p.exploitation]
    rows = list(zip(frame[year.name], zip(*(frame[n] for n in flag_names)) if flag_names else
                    [()] * len(frame), frame["count"]))
    per_year: dict = {}
    for y, _, count in rows:
        per_year[y] = per_year.get(y, 0) + int(count)
    present = [v for v in year.values if per_year.get(v)]
    if not present and not per_year.get(None):
        return charts.empty_view(title)
    # every year from the first to the last present, so gaps show as gaps
    keys = list(year.values[year.values.index(present[0]):year.values.index(present[-1]) + 1]) if present else []
    span = list(keys)
    if per_year.get(None):
        keys.append(None)
    categories = [year.label_of(v) for v in keys]
    index = {k: i for i, k in enumerate(keys)}
    if p.exploitation:
        parts = {n: [0] * len(keys) for n in flag_names + ["several", "none"]}
        for y, flags, count in rows:
            set_flags = [n for n, v in zip(flag_names, flags) if v is not None]
            part = set_flags[0] if len(set_flags) == 1 else ("several" if set_flags else "none")
            parts[part][index[y]] += int(count)
        series = [charts.Series(f"{a.label} only", parts[a.name], charts.OKABE_ITO[i])
                  for i, a in enumerate(p.exploitation)]
        series += [charts.Series("More than one type", parts["several"], charts.OKABE_ITO[4]),
                   charts.Series("Type not recorded", parts["none"], charts.NOT_RECORDED_COLOUR)]
    else:
        series = [charts.Series("records", [per_year.get(k, 0) for k in keys])]
    total = sum(per_year.values())
    summary = f"{charts.fmt_count(total)} records"
    if span:
        busiest = max(span, key=lambda v: per_year.get(v, 0))
        summary += (f", registered from {year.label_of(span[0])} to {year.label_of(span[-1])}; the busiest year is "
                    f"{year.label_of(busiest)} with {charts.fmt_count(per_year.get(busiest, 0))}")
    summary += f"; {charts.fmt_count(per_year[None])} have no year recorded." if per_year.get(None) else "."
    return charts.bar_chart(title, categories, series, category_title=year.label, stacked=True, summary=summary)


def person_view(p: Plan, frame, title: str) -> charts.ChartView:
    if len(p.person) == 1:
        rows = _labelled(p.person[0], frame)
        return charts.bar_chart(title, [r[1] for r in rows], [charts.Series("records", [r[2] for r in rows])],
                                category_title=p.person[0].label)
    # the first attribute across (few values, e.g. gender), the second down (e.g. age bands)
    across, down = p.person
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
        summary = (f"The largest group with both recorded: {across.label_of(a)}, {down.label_of(d)} "
                   f"({charts.fmt_count(n)} records). ")
    summary += f"{down.label} is not recorded for {_share(missing_down, total)} of {charts.fmt_count(total)} records."
    return charts.heatmap_chart(title, [across.label_of(c) for c in col_keys], [down.label_of(r) for r in row_keys],
                                matrix, x_title=across.label, y_title=down.label, summary=summary)


def map_view(attribute: Attribute, frame, title: str) -> charts.ChartView:
    rows = [r for r in _labelled(attribute, frame) if r[0] is not None]
    total = int(frame["count"].sum())
    missing = total - sum(r[2] for r in rows)
    view = charts.choropleth_chart(title, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                                   place_title=attribute.label)
    if not rows:
        return view
    top = max(rows, key=lambda r: r[2])
    summary = (f"{len(rows)} countries have records; the most: {top[1]} with {charts.fmt_count(top[2])} "
               f"({_share(top[2], total)} of all). {attribute.label} is not recorded or suppressed for "
               f"{charts.fmt_count(missing)} records ({_share(missing, total)}).")
    return charts.ChartView(view.figure, summary, view.table)


def group_view(group: str, members: tuple[Attribute, ...], counts: tuple[int, dict[str, int]],
               title: str) -> charts.ChartView:
    denominator, per_flag = counts
    if not denominator:
        return charts.empty_view(title, f"No record under the current filter has a {group} recorded.")
    order = sorted(members, key=lambda a: -per_flag.get(a.name, 0))
    labels = [a.label for a in order]
    values = [per_flag.get(a.name, 0) for a in order]
    total_share = 100.0 * sum(values) / denominator
    summary = (f"Of {charts.fmt_count(denominator)} records with at least one {group} recorded, "
               f"{labels[0]} is the most frequent ({_share(values[0], denominator)})"
               + (f"; the shares add up to {total_share:.0f} % because categories overlap." if total_share >= 100.5
                  else "."))
    return charts.bar_chart(title, labels, [charts.Series("records", values)], category_title=group_title(group),
                            value_title="records", horizontal=True, denominator=denominator,
                            summary=summary)


@dataclass(frozen=True)
class OverviewData:
    headlines: list
    views: dict[str, charts.ChartView]


def compute(service, flt) -> OverviewData:
    """Headlines and every card's view for filter `flt`."""
    store = service.store()
    p = plan(store.codebook)
    counts = fetch_counts(service, p, flt)
    frames, sets = counts.frames, p.sets()
    titles = {c.name: c.title for c in p.cards()}
    views = {}
    if p.year:
        views["years"] = years_view(p, frames[sets[0]], titles["years"])
    if p.person:
        views["person"] = person_view(p, frames[tuple(a.name for a in p.person)], titles["person"])
    for c in p.countries:
        views[f"map-{c.name}"] = map_view(c, frames[(c.name,)], titles[f"map-{c.name}"])
    for group, members in p.flag_groups:
        name = f"group-{slug(group)}"
        views[name] = group_view(group, members, counts.flag_groups[group], titles[name])
    views.update(flow_chart.flow_views(context(service), flt))
    return OverviewData(headline_figures(store.release, p, frames, counts.total, bool(flt)), views)


def headline_figures(release: dict, p: Plan, frames: dict, total: int, filtered: bool) -> list:
    out = [headline("synthetic records" + (" match the filter" if filtered else ""), charts.fmt_count(total),
                    f"of {charts.fmt_count(release['synthetic_record_count'])} in the release" if filtered else "")]
    if release.get("protected_record_count") is not None:
        out.append(headline("protected record count", charts.fmt_count(release["protected_record_count"]),
                            "whole release, differentially private"))
    for c in p.countries:
        n = sum(1 for v, count in zip(frames[(c.name,)][c.name], frames[(c.name,)]["count"]) if v is not None and count)
        out.append(headline(f"countries ({c.label.lower()})", charts.fmt_count(n)))
    if p.year:
        frame = frames[p.sets()[0]]
        seen = {v for v, count in zip(frame[p.year.name], frame["count"]) if count}
        present = [v for v in p.year.values if v in seen]
        out.append(headline(f"{p.year.label.lower()} covered",
                            f"{present[0]}–{present[-1]}" if len(present) > 1 else (present[0] if present else "–"),
                            f"{len(present)} years with records"))
    return out


# --- the page -------------------------------------------------------------------------------

def layout(service, search: Query):
    store = service.store()
    codebook = store.codebook
    values, mapping, _ = from_query(codebook, controls(codebook), search)
    data = compute(service, store.filter(mapping))
    p = plan(codebook)
    return html.Div(className="overview", children=[
        html.H1("Overview"),
        html.P("Who was identified, where and when, and how they were exploited, in the release's synthetic "
               "records. Every chart follows the filters.", className="lead"),
        filters.panel(PAGE, PATH, codebook, values, mapping),
        html.Div(data.headlines, id=ids.OVERVIEW_HEADLINES, className="headlines", **{"aria-live": "polite"}),
        html.Div(className="chart-grid", children=[
            charts.card(c.name, c.title, data.views.get(c.name), group=PAGE, notes=c.notes, wide=c.wide,
                        height=c.height) for c in p.cards()] + flow_chart.cards(codebook, data.views, PAGE)),
    ])
