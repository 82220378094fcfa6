"""The flow chart: a Sankey diagram from origins to destinations (analysis/flows.py), the largest
flows drawn one by one and the rest as one "other flows" band, with its table (each flow's
synthetic and protected count), summary and title like every chart card (components/charts.py).

The Overview draws one card per origin/destination pair among its cards; the Explore page has a
section of its own, refreshed by callbacks/explore.py through `card_outputs(ALL, EXPLORE_GROUP)`.
"""

from __future__ import annotations

from dash import dcc, html

from analysis import comparability as cmp
from analysis import comparison_text as cmp_words
from analysis.explore_counts import Context
from analysis.flows import TOP_FLOWS, Flows, flows
from components import charts, ids
from components.explore_views import protected_cell, signed
from data.codebook import Attribute, Codebook
from data.store import Filter
from i18n import N_, _, ngettext
from i18n.numbers import format_count

EXPLORE_GROUP = "explore-flows"
ORIGIN_COLOUR, DESTINATION_COLOUR = charts.OKABE_ITO[0], charts.OKABE_ITO[1]
LINK_COLOUR = "rgba(0, 114, 178, 0.35)"  # the origins' blue, see-through
LOW_LINK_COLOUR = "rgba(230, 159, 0, 0.55)"  # flows under LOW_COUNT records (unreliable)
OTHER_COLOUR = charts.NOT_RECORDED_COLOUR
OTHER_LINK_COLOUR = "rgba(154, 154, 154, 0.35)"
HEIGHT = 120 + 34 * (TOP_FLOWS + 1)  # room for every node of a side, "other" included
NOTES = (
    N_(
        "Only flows with both ends recorded are drawn; the largest one by one, the rest as one grey band. "
        "Orange bands carry fewer than %(low)s records and are unreliable."
    ),
    N_(
        "The protected count of a flow is the release's count of the same combination (with the other "
        "filters); a flow the release does not list was suppressed."
    ),
)


def card_name(origin: Attribute) -> str:
    return f"flows-{origin.name}"


def title(origin: Attribute, destination: Attribute) -> str:
    return _(
        "Flows from %(origin)s to %(destination)s", origin=origin.label.lower(), destination=destination.label.lower()
    )


def _link_colour(n: int) -> str:
    return LOW_LINK_COLOUR if n < charts.LOW_COUNT else LINK_COLOUR


def _figure(data: Flows, chart_title: str) -> dict:
    o, d = data.origin, data.destination
    origins = list(dict.fromkeys(f.origin for f in data.flows))
    destinations = list(dict.fromkeys(f.destination for f in data.flows))
    labels = [o.label_of(v) for v in origins] + [d.label_of(v) for v in destinations]
    colours = [ORIGIN_COLOUR] * len(origins) + [DESTINATION_COLOUR] * len(destinations)
    sources = [origins.index(f.origin) for f in data.flows]
    targets = [len(origins) + destinations.index(f.destination) for f in data.flows]
    values = [f.synthetic for f in data.flows]
    link_colours = [_link_colour(n) for n in values]
    hover = [
        ngettext(
            "%(origin)s → %(destination)s: %(num)s synthetic record; protected count %(protected)s",
            "%(origin)s → %(destination)s: %(num)s synthetic records; protected count %(protected)s",
            f.synthetic,
            origin=o.label_of(f.origin),
            destination=d.label_of(f.destination),
            protected=cmp_text(f.comparison),
        )
        for f in data.flows
    ]
    if data.other_records:
        labels += [
            _("Other %(attribute)s", attribute=o.label.lower()),
            _("Other %(attribute)s", attribute=d.label.lower()),
        ]
        colours += [OTHER_COLOUR, OTHER_COLOUR]
        sources.append(len(labels) - 2)
        targets.append(len(labels) - 1)
        values.append(data.other_records)
        link_colours.append(OTHER_LINK_COLOUR)
        hover.append(
            ngettext(
                "%(num)s other flow: %(records)s synthetic records",
                "%(num)s other flows: %(records)s synthetic records",
                data.other_flows,
                records=format_count(data.other_records),
            )
        )
    trace = {
        "type": "sankey",
        "arrangement": "snap",
        "valueformat": ",d",
        "node": {
            "label": labels,
            "color": colours,
            "pad": 12,
            "thickness": 16,
            "line": {"color": "#1b1f24", "width": 0.5},
            "hovertemplate": "%{label}: " + _("%(count)s synthetic records", count="%{value:,}") + "<extra></extra>",
        },
        "link": {
            "source": sources,
            "target": targets,
            "value": values,
            "color": link_colours,
            "customdata": hover,
            "hovertemplate": "%{customdata}<extra></extra>",
        },
    }
    return {"data": [trace], "layout": charts.base_layout(chart_title)}


def cmp_text(c: cmp.Comparison) -> str:
    cell = protected_cell(c)
    return format_count(cell) if isinstance(cell, int) else (_("not released") if cell == "–" else cell)


def _table(ctx: Context, data: Flows):
    rows = [
        [
            data.origin.label_of(f.origin),
            data.destination.label_of(f.destination),
            f.synthetic,
            protected_cell(f.comparison),
            signed(f.comparison.difference),
            cmp_words.note(f.comparison, ctx.comparator.facts),
        ]
        for f in data.flows
    ]
    if data.other_flows:
        rows.append(
            [
                ngettext("%(num)s other flow", "%(num)s other flows", data.other_flows),
                "",
                data.other_records,
                "–",
                "–",
                _("not compared"),
            ]
        )
    return charts.data_table(
        [data.origin.label, data.destination.label, _("synthetic"), _("protected"), _("difference"), _("note")], rows
    )


def _summary(data: Flows) -> str:
    top = data.flows[0]
    o, d = data.origin, data.destination
    count = len(data.flows) + data.other_flows
    text = ngettext(
        "%(placed)s synthetic records have both %(origin)s and %(destination)s recorded, in %(num)s "
        "flow; the largest is %(first)s → %(second)s with %(largest)s (protected count %(protected)s).",
        "%(placed)s synthetic records have both %(origin)s and %(destination)s recorded, in %(num)s "
        "flows; the largest is %(first)s → %(second)s with %(largest)s (protected count %(protected)s).",
        count,
        placed=format_count(data.placed),
        origin=o.label.lower(),
        destination=d.label.lower(),
        first=o.label_of(top.origin),
        second=d.label_of(top.destination),
        largest=format_count(top.synthetic),
        protected=cmp_text(top.comparison),
    )
    if data.other_flows:
        drawn = data.placed - data.other_records
        text += " " + _(
            "The %(shown)s largest, drawn one by one, hold %(drawn)s of them (%(share)s).",
            shown=len(data.flows),
            drawn=format_count(drawn),
            share=cmp_words.percent(drawn / data.placed),
        )
    if data.unplaced:
        text += " " + ngettext(
            "%(num)s record lacks one end and is not drawn.",
            "%(num)s records lack one end and are not drawn.",
            data.unplaced,
        )
    return text


def flow_view(
    ctx: Context, flt: Filter, origin: Attribute, destination: Attribute, top: int = TOP_FLOWS
) -> charts.ChartView:
    chart_title = title(origin, destination)
    data = flows(ctx, flt, origin, destination, top)
    if not data.flows:
        return charts.empty_view(
            chart_title,
            _(
                "No record under the current filter has both %(origin)s and %(destination)s recorded.",
                origin=origin.label.lower(),
                destination=destination.label.lower(),
            ),
        )
    return charts.ChartView(_figure(data, chart_title), _summary(data), _table(ctx, data))


def flow_views(ctx: Context, flt: Filter) -> dict[str, charts.ChartView]:
    """Every origin/destination pair's view under `flt`, by card name."""
    return {card_name(o): flow_view(ctx, flt, o, d) for o, d in ctx.codebook.flows()}


def card_names(codebook: Codebook) -> list[str]:
    return [card_name(o) for o, _ in codebook.flows()]


def cards(codebook: Codebook, views: dict[str, charts.ChartView], group: str) -> list:
    """The flow cards of a page showing `views` (none when the release has no origin/destination pair)."""
    notes = [_(NOTES[0], low=charts.LOW_COUNT), _(NOTES[1])]
    return [
        charts.card(
            card_name(o), title(o, d), views.get(card_name(o)), group=group, notes=notes, wide=True, height=HEIGHT
        )
        for o, d in codebook.flows()
    ]


def explore_section(ctx: Context, flt: Filter):
    """The Explore page's flows under its filters, and the store of the filter they show (alone
    when the release has no pair)."""
    found = cards(ctx.codebook, flow_views(ctx, flt), EXPLORE_GROUP)
    shown = dcc.Store(id=ids.EXPLORE_FLOWS_SHOWN, data=flt.cache_key())
    if not found:
        return shown
    return html.Section(
        className="explore-section",
        **{"aria-labelledby": "explore-flows-title"},
        children=[
            html.H2(_("Flows from origin to destination"), id="explore-flows-title"),
            html.P(
                _(
                    "Where the records' people came from and where they were exploited, under the filters above, "
                    "each flow's synthetic count beside its protected count."
                ),
                className="section-intro",
            ),
            html.Div(found, className="chart-grid"),
            shown,
        ],
    )
