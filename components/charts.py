"""Chart cards, and the palette, graph options and figure builders every page shares.

A card is a section with the chart's title as a heading, a one-sentence summary computed from
the data, the graph, a "show as table" alternative and the caveats. Its three updatable parts
have derived pattern-matching ids {"type": part, "chart": name, "group": group}, so a callback
that refreshes a card declares `*card_outputs(name, group)` as its outputs and returns
`view.outputs()`; a callback refreshing every card of a page uses `ALL` for the name and the
page's own `group` (which keeps its wildcard from reaching other pages' cards):

    view = charts.bar_chart("Age group", labels, [charts.Series("records", counts)])
    charts.card("age", "Records by age group", view)      # in a layout
    app.callback(*charts.card_outputs("age"), Input(...))  # in callbacks/, returns view.outputs()

Figures are plain dicts (no plotly.graph_objects validation on the request path). Every count
under `LOW_COUNT` is marked as unreliable: hatched bars, starred heatmap cells, a separate colour
on maps, a star and a footnote in tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dash import Output, dcc, get_asset_url, html

import i18n
from components import ids
from data.codebook import NOT_RECORDED
from i18n import N_, _, ngettext
from i18n.numbers import format_count, format_number, format_percent, plotly_separators

LOW_COUNT = 10

# Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies;
# series take them in this order.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
# Line charts also differ by marker, so their series tell apart without colour.
MARKERS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
NOT_RECORDED_COLOUR = "#9A9A9A"  # neutral grey, outside the palette: never mistaken for a category
LOW_COUNT_COLOUR = "#E69F00"  # maps: countries with fewer than LOW_COUNT records
# One hue, light to dark: readable whatever the colour vision, and in greyscale print.
SEQUENTIAL = ((0.0, "#E3EEF9"), (0.35, "#8FB8DE"), (0.7, "#3A7DBF"), (1.0, "#08306B"))

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
SYNTHETIC_NOTE = N_(
    "Counts of synthetic records, which stand in for people but are not people. "
    "Counts under %(low)s are unreliable: hatched or marked in the chart, starred in the table."
)
LOW_FOOTNOTE = N_("* fewer than %(low)s records: unreliable.")
EMPTY_MESSAGE = N_("No records match the current filter.")
# plotly's own words on the buttons the graphs show (its English is the key of its dictionary).
PLOTLY_WORDS = (N_("Download plot as a PNG"), N_("Download plot"), N_("Zoom in"), N_("Zoom out"), N_("Reset"))


def part_id(part: str, name, group: str = "") -> dict:
    """The id of one part of card `name` of `group`; `part` is ids.CHART_GRAPH, CHART_SUMMARY,
    or CHART_TABLE. `name` may be a wildcard (ALL, MATCH)."""
    return {"type": part, "chart": name, "group": group}


def card_outputs(name, group: str = "") -> tuple[Output, Output, Output]:
    """The outputs a callback declares to refresh card `name` with `ChartView.outputs()`
    (with `name=ALL`, every card of `group`: return three lists in the order of ctx.outputs_list)."""
    return (
        Output(part_id(ids.CHART_GRAPH, name, group), "figure"),
        Output(part_id(ids.CHART_SUMMARY, name, group), "children"),
        Output(part_id(ids.CHART_TABLE, name, group), "children"),
    )


def card_parts(views: dict, names: Sequence[str]) -> tuple[list, list, list]:
    """(figures, summaries, tables) of the cards `names`, in that order: what a callback declaring
    `card_outputs(ALL, group)` returns (a card without a view shows as empty)."""
    shown = [views.get(name) or empty_view(name) for name in names]
    return [v.figure for v in shown], [v.summary for v in shown], [v.table for v in shown]


def graph_config(filename: str, geo: bool = False) -> dict:
    """dcc.Graph options: PNG export from the modebar (always shown, its buttons reachable with
    the keyboard; maps keep their zoom), nothing sent to or loaded from elsewhere."""
    return {
        "displaylogo": False,
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "showLink": False,
        "responsive": True,
        "scrollZoom": False,
        "displayModeBar": True,
        "modeBarButtons": [["toImage", "zoomInGeo", "zoomOutGeo", "resetGeo"] if geo else ["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": filename, "width": 1100, "height": 650, "scale": 2},
        # Map geometry is served by the app itself (assets/topojson), never by a CDN.
        "topojsonURL": get_asset_url("topojson/"),
        # The buttons' tooltips in the reader's language, through plotly's own locale mechanism.
        "locale": i18n.current(),
        "locales": {i18n.current(): {"dictionary": {word: _(word) for word in PLOTLY_WORDS}}},
    }


@dataclass(frozen=True)
class Series:
    """One coloured set of bars: a count per category, in the categories' order."""

    name: str
    counts: Sequence[int]
    colour: str | None = None


@dataclass(frozen=True)
class ChartView:
    """What a card shows: the figure, the one-sentence summary and the table alternative."""

    figure: dict
    summary: str
    table: Any = field(default=None)

    def outputs(self) -> tuple:
        return self.figure, self.summary, self.table


def card(
    name: str,
    title: str,
    view: ChartView | None = None,
    *,
    group: str = "",
    notes: Sequence[str] = (),
    height: int = 380,
    wide: bool = False,
    counts: bool = True,
    level: int = 2,
):
    """A chart card. `name` and `group` derive the ids, `name` the PNG's file name; `notes` are
    caveats shown under the chart, before the standing note on synthetic counts (left out when
    the chart shows measurements rather than `counts`); `level` is its heading's rank (3 inside
    a section that has its own heading)."""
    view = view or empty_view(title)
    heading = f"chart-{group}-{name}-title" if group else f"chart-{name}-title"
    return html.Section(
        className="chart-card" + (" chart-card-wide" if wide else ""),
        **{"aria-labelledby": heading},
        children=[
            (html.H3 if level == 3 else html.H2)(title, id=heading, className="chart-title"),
            html.P(
                view.summary,
                id=part_id(ids.CHART_SUMMARY, name, group),
                className="chart-summary",
                **{"aria-live": "polite"},
            ),
            dcc.Graph(
                id=part_id(ids.CHART_GRAPH, name, group),
                figure=view.figure,
                config=graph_config(
                    file_stem(title) or name, geo=any(t.get("type") == "choropleth" for t in view.figure["data"])
                ),
                className="chart-graph",
                style={"height": f"{height}px"},
            ),
            html.Details(
                className="chart-table",
                children=[
                    html.Summary(_("Show as table")),
                    html.Div(view.table, id=part_id(ids.CHART_TABLE, name, group), className="table-scroll"),
                ],
            ),
            *[
                html.P(note, className="chart-note")
                for note in [*notes, *([_(SYNTHETIC_NOTE, low=LOW_COUNT)] if counts else [])]
            ],
        ],
    )


# --- tables -----------------------------------------------------------------------------------


def file_stem(title: str) -> str:
    """A PNG's file name from the chart's title, in the reader's language (letters of any script)."""
    return "-".join(re.findall(r"\w+", title.lower()))[:80]


def fmt_count(n: int) -> str:
    return format_count(n)


def wrap_label(text: str, width: int = 24) -> str:
    """A category label broken into lines of about `width` characters (plotly does not wrap)."""
    lines, line = [], ""
    for word in str(text).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + [line]) if line else str(text)


def fmt_compact(n: int) -> str:
    """A count in at most four characters, for labels inside charts: 950, 9.5k, 12k, 1.2M."""
    n = int(n)
    for size, suffix in ((1_000_000, _("%(n)sM")), (1_000, _("%(n)sk"))):
        if n >= size:
            value = n / size
            return suffix % {"n": format_number(value, 1 if value < 10 else 0)}
    return str(n)


def fmt_percent(p: float | None) -> str:
    return format_percent(p, 1)


def fmt_measure(value: float | None, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "–"
    text = format_count(round(value)) if abs(value) >= 1000 else format_number(float(f"{value:.3g}"), 6)
    return text + (f" {unit}" if unit else "")


def _md_cell(value) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<br>", " ")


def data_table(header: Sequence[str], rows: Sequence[Sequence], caption: str | None = None):
    """A plain table, written as Markdown (one component however long: cheap to build and to
    send). Integer cells are counts: formatted, and starred when under LOW_COUNT; other cells
    are shown as given; the first column names the row, the others are right-aligned."""
    any_low = False
    lines = [
        "| " + " | ".join(_md_cell(h) for h in header) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, int) and not isinstance(value, bool):
                low = 0 < value < LOW_COUNT
                any_low = any_low or low
                cells.append(fmt_count(value) + ("\\*" if low else ""))
            else:
                cells.append("" if value is None else _md_cell(value))
        lines.append("| " + " | ".join(cells) + " |")
    return html.Div(
        className="data-table",
        children=[
            html.P(caption, className="table-caption") if caption else None,
            dcc.Markdown("\n".join(lines)),
            html.P(_(LOW_FOOTNOTE, low=LOW_COUNT), className="table-note") if any_low else None,
        ],
    )


# --- figures ----------------------------------------------------------------------------------


def base_layout(title: str, **extra) -> dict:
    """Layout shared by every figure. The title is drawn in exported images; on the page the
    card's heading shows it (the stylesheet hides the in-chart copy)."""
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        "font": {"family": FONT, "size": 13, "color": "#1b1f24"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 10, "r": 10, "t": 48, "b": 10},
        "hoverlabel": {"font": {"family": FONT}},
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "xanchor": "left",
            "x": 0,
            "traceorder": "normal",
        },
        "separators": plotly_separators(),
    }
    if i18n.is_rtl():
        # Right to left: the title and the legend start on the right.
        layout["title"].update(x=0.99, xanchor="right")
        layout["legend"].update(xanchor="right", x=1)
    layout.update(extra)
    return layout


def empty_figure(title: str, message: str | None = None) -> dict:
    message = message or _(EMPTY_MESSAGE)
    return {
        "data": [],
        "layout": base_layout(
            title,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 15},
                }
            ],
        ),
    }


def empty_view(title: str, message: str | None = None) -> ChartView:
    message = message or _(EMPTY_MESSAGE)
    return ChartView(empty_figure(title, message), message, html.P(message))


def _percent(count: int, denominator: int | None) -> float | None:
    return 100.0 * count / denominator if denominator else None


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    category_title: str = "",
    value_title: str | None = None,
    stacked: bool = False,
    horizontal: bool = False,
    denominator: int | None = None,
    counts: bool = True,
    unit: str = "",
    lines: bool = False,
    summary: str | None = None,
) -> ChartView:
    """Bars, one set per series (grouped, or stacked when `stacked`). With `denominator`, bars
    show percentages of it (the counts stay in the hover text and the table). With
    `counts=False` the values are measurements in `unit` (None where missing): no low-count
    marks, and with `lines` drawn as lines with distinct markers rather than bars."""
    categories = list(categories)
    value_title = value_title or _("records")
    if not categories or not any((c or not counts) and c is not None for s in series for c in s.counts):
        return empty_view(title)
    shown = [wrap_label(c) for c in categories] if horizontal else categories
    cat_axis, value_axis = ("y", "x") if horizontal else ("x", "y")
    if not counts:
        value_format = "%{" + value_axis + ":,.3~g}" + (f" {unit}" if unit else "")
    elif denominator:
        value_format = _(
            "%(percent)s %% (%(count)s records)", percent="%{" + value_axis + ":.1f}", count="%{customdata:,}"
        )
    else:
        value_format = _("%(count)s records", count="%{" + value_axis + ":,}")
    traces = []
    for i, s in enumerate(series):
        raw = [int(c) if counts else c for c in s.counts]
        colour = s.colour or OKABE_ITO[i % len(OKABE_ITO)]
        if lines and not counts:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": s.name,
                    "x": shown,
                    "y": raw,
                    "line": {"color": colour, "width": 2},
                    "marker": {"color": colour, "size": 8, "symbol": MARKERS[i % len(MARKERS)]},
                    "hovertemplate": f"%{{x}}<br>{s.name}: {value_format}<extra></extra>",
                }
            )
            continue
        low = [counts and 0 < c < LOW_COUNT for c in raw]
        traces.append(
            {
                "type": "bar",
                "name": s.name,
                cat_axis: shown,
                value_axis: [_percent(c, denominator) for c in raw] if counts and denominator else raw,
                "orientation": "h" if horizontal else "v",
                "customdata": raw,
                # a lone series' "not recorded" bar is grey, as in the stacked charts
                "marker": {
                    "color": colour
                    if len(series) > 1
                    else [NOT_RECORDED_COLOUR if c == _(NOT_RECORDED) else colour for c in categories],
                    "line": {"color": "#1b1f24", "width": [1 if x else 0 for x in low]},
                    "pattern": {"shape": ["/" if x else "" for x in low], "fgcolor": "#1b1f24", "solidity": 0.3},
                },
                "hovertemplate": f"%{{{cat_axis}}}<br>{s.name}: {value_format}<extra></extra>",
            }
        )
    value_axis_title = (
        _("%% of %(what)s", what=value_title)
        if counts and denominator
        else value_title + (f" ({unit})" if unit else "")
    )
    cat_layout = {"title": {"text": "" if horizontal else category_title}, "type": "category", "automargin": True}
    value_layout = {
        "title": {"text": value_axis_title},
        "rangemode": "tozero",
        "automargin": True,
        "gridcolor": "#e3e7ec",
        "separatethousands": True,
    }
    if horizontal:
        cat_layout["autorange"] = "reversed"
    if i18n.is_rtl():
        _mirror(cat_layout, value_layout, horizontal)
    layout = base_layout(
        title,
        barmode="stack" if stacked else "group",
        showlegend=len(series) > 1,
        xaxis=value_layout if horizontal else cat_layout,
        yaxis=cat_layout if horizontal else value_layout,
    )
    header = [category_title or _("category")]
    for s in series:
        header.append(s.name if len(series) > 1 else value_title)
        if counts and denominator:
            header.append(_("%% of %(what)s", what=value_title))
    rows = []
    for j, category in enumerate(categories):
        row: list = [category]
        for s in series:
            if not counts:
                row.append(fmt_measure(s.counts[j], unit))
                continue
            row.append(int(s.counts[j]))
            if denominator:
                row.append(fmt_percent(_percent(int(s.counts[j]), denominator)))
        rows.append(row)
    if summary is None:
        totals = [sum(s.counts[j] or 0 for s in series) for j in range(len(categories))]
        summary = (
            top_summary(categories, totals, denominator=denominator)
            if counts
            else _(
                "Highest: %(label)s (%(value)s).",
                label=categories[max(range(len(totals)), key=totals.__getitem__)],
                value=fmt_measure(max(totals), unit),
            )
        )
    return ChartView({"data": traces, "layout": layout}, summary, data_table(header, rows))


def _mirror(cat_layout: dict, value_layout: dict, horizontal: bool) -> None:
    """Right to left: horizontal bars grow leftwards from labels on the right; vertical ones start
    with the first category on the right, their value axis on the right."""
    if horizontal:
        value_layout["autorange"] = "reversed"
        cat_layout["side"] = "right"
    else:
        cat_layout["autorange"] = "reversed"
        value_layout["side"] = "right"


def heatmap_colorbar(title: str) -> dict:
    """A heatmap's colour scale, laid flat under the plot."""
    return {
        "title": {"text": title},
        "thickness": 10,
        "orientation": "h",
        "y": -0.02,
        "yanchor": "top",
        "len": 0.6,
        "tickangle": 0,
    }


def heatmap_chart(
    title: str,
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    x_title: str = "",
    y_title: str = "",
    summary: str | None = None,
) -> ChartView:
    """A grid of counts, `counts[row][column]` for y_labels × x_labels; cells under LOW_COUNT
    carry a star."""
    matrix = [[int(c) for c in row] for row in counts]
    if not matrix or not any(any(row) for row in matrix):
        return empty_view(title)
    text = [[(fmt_compact(c) + ("*" if 0 < c < LOW_COUNT else "")) if c else "" for c in row] for row in matrix]
    trace = {
        "type": "heatmap",
        "x": [wrap_label(x, 12) for x in x_labels],
        "y": list(y_labels),
        "z": [[c if c else None for c in row] for row in matrix],
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 11},
        "colorscale": [list(stop) for stop in SEQUENTIAL],
        "xgap": 2,
        "ygap": 2,
        "colorbar": heatmap_colorbar(_("records")),
        "hovertemplate": f"{y_title} %{{y}}, {x_title} %{{x}}: "
        + _("%(count)s records", count="%{z:,}")
        + "<extra></extra>",
    }
    layout = base_layout(
        title,
        xaxis={"title": {"text": x_title}, "type": "category", "automargin": True, "side": "top", "tickangle": 0},
        yaxis={
            "title": {"text": y_title},
            "type": "category",
            "automargin": True,
            "autorange": "reversed",
            "side": "right" if i18n.is_rtl() else "left",
        },
    )
    if i18n.is_rtl():
        layout["xaxis"]["autorange"] = "reversed"
    rows = [[y] + row for y, row in zip(y_labels, matrix)]
    flat = [(f"{y} · {x}", c) for y, row in zip(y_labels, matrix) for x, c in zip(x_labels, row)]
    return ChartView(
        {"data": [trace], "layout": layout},
        summary or top_summary([f for f, _ in flat], [c for _, c in flat]),
        data_table([f"{y_title} \\ {x_title}"] + list(x_labels), rows),
    )


def choropleth_chart(
    title: str,
    codes: Sequence[str],
    names: Sequence[str],
    counts: Sequence[int],
    *,
    place_title: str | None = None,
    summary: str | None = None,
) -> ChartView:
    """A world map of counts by ISO-3 code on a logarithmic colour scale; countries under
    LOW_COUNT drawn in a colour of their own."""
    rows = sorted(
        ((int(c), code, name) for code, name, c in zip(codes, names, counts) if c), key=lambda r: (-r[0], r[2])
    )
    if not rows:
        return empty_view(title)
    solid = [r for r in rows if r[0] >= LOW_COUNT]
    low = [r for r in rows if r[0] < LOW_COUNT]
    hover = "%{customdata[0]}: " + _("%(count)s records", count="%{customdata[1]:,}") + "<extra></extra>"
    traces = []
    if solid:
        top = max(r[0] for r in solid)
        ticks = [10**k for k in range(1, int(math.log10(top)) + 2)]
        traces.append(
            {
                "type": "choropleth",
                "locationmode": "ISO-3",
                "name": _("%(low)s records or more", low=LOW_COUNT),
                "locations": [r[1] for r in solid],
                "z": [math.log10(r[0]) for r in solid],
                "customdata": [[r[2], r[0]] for r in solid],
                "hovertemplate": hover,
                "colorscale": [list(stop) for stop in SEQUENTIAL],
                "zmin": 1,
                "zmax": max(math.log10(top), 1.5),
                "marker": {"line": {"color": "#ffffff", "width": 0.5}},
                "colorbar": {
                    "title": {"text": _("records"), "side": "top"},
                    "thickness": 10,
                    "orientation": "h",
                    "x": 0.5,
                    "xanchor": "center",
                    "y": 0,
                    "yanchor": "top",
                    "len": 0.7,
                    "tickvals": [math.log10(t) for t in ticks],
                    "ticktext": [fmt_compact(t) for t in ticks],
                },
            }
        )
    if low:
        traces.append(
            {
                "type": "choropleth",
                "locationmode": "ISO-3",
                "name": _("fewer than %(low)s records (unreliable)", low=LOW_COUNT),
                "locations": [r[1] for r in low],
                "z": [1] * len(low),
                "customdata": [[r[2], r[0]] for r in low],
                "hovertemplate": hover,
                "colorscale": [[0, LOW_COUNT_COLOUR], [1, LOW_COUNT_COLOUR]],
                "showscale": False,
                "showlegend": True,
                "marker": {"line": {"color": "#1b1f24", "width": 0.8}},
            }
        )
    layout = base_layout(
        title,
        margin={"l": 0, "r": 0, "t": 48, "b": 40},
        geo={
            "scope": "world",
            "resolution": 110,
            "projection": {"type": "natural earth"},
            "showframe": False,
            "showcoastlines": False,
            "showcountries": True,
            "countrycolor": "#ffffff",
            "showland": True,
            "landcolor": "#EDEFF2",
            "bgcolor": "#ffffff",
            "lataxis": {"range": [-58, 85]},
        },
    )
    table = data_table(
        [place_title or _("country"), _("code"), _("records")], [[name, code, count] for count, code, name in rows]
    )
    return ChartView(
        {"data": traces, "layout": layout}, summary or top_summary([r[2] for r in rows], [r[0] for r in rows]), table
    )


# --- summaries --------------------------------------------------------------------------------


def top_summary(labels: Sequence[str], counts: Sequence[int], *, denominator: int | None = None) -> str:
    """“Largest: X with n records (p %), of k shown.” computed from the data."""
    pairs = [(int(c), str(label)) for label, c in zip(labels, counts) if c]
    if not pairs:
        return _(EMPTY_MESSAGE)
    count, label = max(pairs, key=lambda p: p[0])
    share = fmt_percent(_percent(count, denominator if denominator else sum(c for c, _n in pairs)))
    largest = (
        ngettext(
            "Largest: %(label)s, with %(num)s record (%(share)s of the group's denominator);",
            "Largest: %(label)s, with %(num)s records (%(share)s of the group's denominator);",
            count,
            label=label,
            share=share,
        )
        if denominator
        else ngettext(
            "Largest: %(label)s, with %(num)s record (%(share)s of those shown);",
            "Largest: %(label)s, with %(num)s records (%(share)s of those shown);",
            count,
            label=label,
            share=share,
        )
    )
    return (
        largest
        + " "
        + ngettext(
            "%(num)s category has at least one record.", "%(num)s categories have at least one record.", len(pairs)
        )
    )
