"""The heatmap of counts over two attributes, a chart card's figure like those in charts.py."""

from __future__ import annotations

from collections.abc import Sequence

import i18n
from components.charts import (
    LOW_COUNT,
    SEQUENTIAL,
    ChartView,
    base_layout,
    data_table,
    empty_view,
    fmt_compact,
    top_summary,
    wrap_label,
)
from i18n import _


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
