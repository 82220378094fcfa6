"""The world map of record counts by country, a chart card's figure like those in charts.py."""

from __future__ import annotations

import math
from collections.abc import Sequence

from components import charts
from i18n import _

LOW_COUNT_COLOUR = "#E69F00"  # countries with fewer than charts.LOW_COUNT records


def choropleth_chart(
    title: str,
    codes: Sequence[str],
    names: Sequence[str],
    counts: Sequence[int],
    *,
    place_title: str | None = None,
    summary: str | None = None,
) -> charts.ChartView:
    """A world map of counts by ISO-3 code on a logarithmic colour scale; countries under
    charts.LOW_COUNT drawn in a colour of their own."""
    rows = sorted(
        ((int(c), code, name) for code, name, c in zip(codes, names, counts) if c), key=lambda r: (-r[0], r[2])
    )
    if not rows:
        return charts.empty_view(title)
    solid = [r for r in rows if r[0] >= charts.LOW_COUNT]
    low = [r for r in rows if r[0] < charts.LOW_COUNT]
    hover = "%{customdata[0]}: " + _("%(count)s records", count="%{customdata[1]:,}") + "<extra></extra>"
    traces = ([_solid_trace(solid, hover)] if solid else []) + ([_low_trace(low, hover)] if low else [])
    layout = charts.base_layout(
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
    table = charts.data_table(
        [place_title or _("country"), _("code"), _("records")], [[name, code, count] for count, code, name in rows]
    )
    return charts.ChartView(
        {"data": traces, "layout": layout},
        summary or charts.top_summary([r[2] for r in rows], [r[0] for r in rows]),
        table,
    )


def _solid_trace(solid: list, hover: str) -> dict:
    """Countries with enough records, on a logarithmic colour scale with a flat colour bar."""
    top = max(r[0] for r in solid)
    ticks = [10**k for k in range(1, int(math.log10(top)) + 2)]
    return {
        "type": "choropleth",
        "locationmode": "ISO-3",
        "name": _("%(low)s records or more", low=charts.LOW_COUNT),
        "locations": [r[1] for r in solid],
        "z": [math.log10(r[0]) for r in solid],
        "customdata": [[r[2], r[0]] for r in solid],
        "hovertemplate": hover,
        "colorscale": [list(stop) for stop in charts.SEQUENTIAL],
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
            "ticktext": [charts.fmt_compact(t) for t in ticks],
        },
    }


def _low_trace(low: list, hover: str) -> dict:
    """Countries under charts.LOW_COUNT in one colour of their own, listed in the legend."""
    return {
        "type": "choropleth",
        "locationmode": "ISO-3",
        "name": _("fewer than %(low)s records (unreliable)", low=charts.LOW_COUNT),
        "locations": [r[1] for r in low],
        "z": [1] * len(low),
        "customdata": [[r[2], r[0]] for r in low],
        "hovertemplate": hover,
        "colorscale": [[0, LOW_COUNT_COLOUR], [1, LOW_COUNT_COLOUR]],
        "showscale": False,
        "showlegend": True,
        "marker": {"line": {"color": "#1b1f24", "width": 0.8}},
    }
