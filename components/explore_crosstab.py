"""The Explore page's cross-tab of two attributes: a heatmap of protected counts or of the
synthetic-minus-protected differences, with its table and the combinations beyond the reporting
length. The numbers come from analysis/explore_counts.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from dash import html

from analysis import comparability as cmp
from analysis import comparison_text as cmp_words
from analysis.explore_counts import (
    MAX_AXIS,
    Context,
    CrossTab,
    crosstab_data,
)
from analysis.explore_state import ExploreState
from components import charts, heatmap_chart
from components.explore_views import GROUP, protected_cell, protected_text, signed
from i18n import _, ngettext
from i18n.numbers import format_count

# Blue where the synthetic count is below the protected one, vermillion where above, white at 0:
# two hues told apart with the common colour-vision deficiencies.
DIVERGING = ((0.0, "#0072B2"), (0.5, "#F7F7F7"), (1.0, "#D55E00"))


def _grid_view(
    title: str,
    xs: list[str],
    ys: list[str],
    z,
    text,
    hover,
    *,
    x_title: str,
    y_title: str,
    scale,
    summary: str,
    table,
    colour_title: str,
    diverging: bool = False,
) -> charts.ChartView:
    """A heatmap of values that may be missing (None: an empty cell); `diverging` centres the
    colour scale on 0."""
    present = [v for row in z for v in row if v is not None]
    if not present:
        return charts.ChartView(charts.empty_figure(title, "No cell has a value to show."), summary, table)
    trace = {
        "type": "heatmap",
        "x": [charts.wrap_label(x, 12) for x in xs],
        "y": list(ys),
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "customdata": hover,
        "hoverongaps": False,
        "xgap": 2,
        "ygap": 2,
        "textfont": {"size": 11},
        "colorscale": [list(stop) for stop in scale],
        "colorbar": heatmap_chart.heatmap_colorbar(colour_title),
        "hovertemplate": f"{y_title} %{{y}}, {x_title} %{{x}}: %{{customdata}}<extra></extra>",
    }
    if diverging:
        spread = max(abs(v) for v in present) or 1
        trace.update({"zmid": 0, "zmin": -spread, "zmax": spread})
    layout = charts.base_layout(
        title,
        xaxis={"title": {"text": x_title}, "type": "category", "automargin": True, "side": "top", "tickangle": 0},
        yaxis={"title": {"text": y_title}, "type": "category", "automargin": True, "autorange": "reversed"},
    )
    return charts.ChartView({"data": [trace], "layout": layout}, summary, table)


@dataclass(frozen=True)
class _Axes:
    """The cross-tab's attribute labels and value labels, as its grids and tables show them."""

    rows: str
    cols: str
    y_labels: list
    x_labels: list

    def table(self, grid) -> object:
        return charts.data_table(
            [f"{self.rows} \\ {self.cols}"] + self.x_labels, [[y] + row for y, row in zip(self.y_labels, grid)]
        )


def _hover(ctx: Context, c: cmp.Comparison) -> str:
    why = cmp_words.note(c, ctx.comparator.facts)
    return protected_text(c) + (f" ({why})" if why else "")


def _whole(c: cmp.Comparison) -> bool:
    return c.status in (cmp.EXACT, cmp.DERIVED)


def _protected_view(ctx: Context, data: CrossTab, axes: _Axes, longest: int) -> charts.ChartView:
    la, lb, r = axes.rows, axes.cols, ctx.reporting_length
    with_count = sum(c.protected is not None for c in data.cells.values())
    return _grid_view(
        _("Protected counts: %(rows)s by %(cols)s", rows=la, cols=lb),
        axes.x_labels,
        axes.y_labels,
        data.grid(lambda c: c.protected),
        data.grid(
            lambda c: (
                ""
                if c.protected is None
                else ("≥" if c.status == cmp.LOWER_BOUND else "")
                + charts.fmt_compact(c.protected)
                + ("*" if 0 < c.protected < charts.LOW_COUNT else "")
            )
        ),
        data.grid(lambda c: _hover(ctx, c)),
        x_title=lb,
        y_title=la,
        scale=charts.SEQUENTIAL,
        colour_title=_("count"),
        summary=ngettext(
            "%(with_count)s of %(num)s cell has a protected count",
            "%(with_count)s of %(num)s cells have a protected count",
            len(data.cells),
            with_count=format_count(with_count),
        )
        + (
            _(
                "; combinations here have %(longest)s attributes, more than the reporting length %(length)s, "
                "so none exists.",
                longest=longest,
                length=r,
            )
            if longest > r
            else "."
        ),
        table=axes.table(data.grid(protected_cell)),
    )


def _difference_view(ctx: Context, data: CrossTab, axes: _Axes) -> charts.ChartView:
    la, lb = axes.rows, axes.cols
    compared = data.grid(lambda c: c.difference if _whole(c) else None)
    # By score only: pairs may hold None ("not recorded"), which does not compare with text.
    worst = min(
        ((c.score, pair) for pair, c in data.cells.items() if c.score is not None),
        key=lambda item: item[0],
        default=None,
    )
    return _grid_view(
        _("Synthetic minus protected: %(rows)s by %(cols)s", rows=la, cols=lb),
        axes.x_labels,
        axes.y_labels,
        compared,
        [
            ["" if d is None else ("+" if d > 0 else "−" if d < 0 else "") + charts.fmt_compact(abs(d)) for d in row]
            for row in compared
        ],
        data.grid(
            lambda c: (
                _("%(count)s records", count=signed(c.difference))
                if _whole(c)
                else _("not compared: %(why)s", why=_hover(ctx, c))
            )
        ),
        x_title=lb,
        y_title=la,
        scale=DIVERGING,
        diverging=True,
        colour_title=_("difference"),
        summary=(
            _("Blue: fewer synthetic records than the protected count; vermillion: more.")
            + " "
            + (
                _(
                    "Lowest comparability: %(row)s · %(col)s (%(score)s).",
                    row=ctx.label(data.rows, worst[1][0]),
                    col=ctx.label(data.cols, worst[1][1]),
                    score=cmp_words.percent(worst[0]),
                )
                if worst
                else _("No cell has both counts.")
            )
        ),
        table=axes.table([[signed(d) if d is not None else "–" for d in row] for row in compared]),
    )


def _beyond_section(data: CrossTab, axes: _Axes, longest: int, reporting_length: int):
    """In place of the compared grids when every cell is longer than the reporting length."""
    return html.Section(
        className="xtab-beyond",
        **{"aria-labelledby": "xtab-beyond-title"},
        children=[
            html.H3(_("No protected counts for these cells"), id="xtab-beyond-title"),
            html.P(
                _(
                    "With the other filters each cell combines %(longest)s attributes, more than the release's "
                    "reporting length (%(length)s): there are no protected counts to compare, and the synthetic "
                    "counts are the only estimate. Remove a filter to compare, or read the upper bounds the "
                    "protected counts give.",
                    longest=longest,
                    length=reporting_length,
                )
            ),
            html.Details(
                [
                    html.Summary(_("Upper bounds from the protected counts")),
                    html.Div(axes.table(data.grid(protected_text)), className="table-scroll"),
                ]
            ),
        ],
    )


def crosstab(ctx: Context, state: ExploreState):
    """Synthetic counts, protected counts and their difference for every pair of values of the two
    chosen attributes, under the other selections."""
    data = crosstab_data(ctx, state)
    if data is None:
        return html.P(
            _("Choose an attribute for the rows and another for the columns to see every pair of their values."),
            className="explore-hint",
        )
    if not data.ys or not data.xs:
        return html.P(_(charts.EMPTY_MESSAGE), className="explore-hint")
    a, b, r = data.rows, data.cols, ctx.reporting_length
    la, lb = ctx.codebook[a].label, ctx.codebook[b].label
    axes = _Axes(
        la,
        lb,
        [charts.wrap_label(ctx.label(a, v), 18) for v in data.ys],  # tables turn <br> into spaces
        [ctx.label(b, v) for v in data.xs],
    )
    longest = data.others + 2
    height = max(300, 130 + 30 * len(data.ys))
    notes = []
    if len(data.xs) == MAX_AXIS or len(data.ys) == MAX_AXIS:
        notes.append(_("Each axis shows at most the %(count)s values with the most synthetic records.", count=MAX_AXIS))
    if a in state.filter.attributes or b in state.filter.attributes:
        notes.append(
            _(
                "The filters on %(rows)s and %(cols)s are not applied here: they are the table's axes.",
                rows=la.lower(),
                cols=lb.lower(),
            )
        )
    synthetic_title = _("Synthetic records: %(rows)s by %(cols)s", rows=la, cols=lb)
    synthetic_card = charts.card(
        "crosstab-synthetic",
        synthetic_title,
        heatmap_chart.heatmap_chart(
            synthetic_title, axes.x_labels, axes.y_labels, data.grid(lambda c: c.synthetic), x_title=lb, y_title=la
        ),
        group=GROUP,
        notes=notes,
        height=height,
        wide=True,
    )
    if longest > r and ctx.release.get("has_aggregates"):
        compared_cards = [_beyond_section(data, axes, longest, r)]
    else:
        compared_cards = [
            charts.card(
                "crosstab-protected",
                _("Protected counts: %(rows)s by %(cols)s", rows=la, cols=lb),
                _protected_view(ctx, data, axes, longest),
                group=GROUP,
                notes=notes + [_("“≥”: some parts of the cell were suppressed, so the count is a lower bound.")],
                height=height,
                wide=True,
            ),
            charts.card(
                "crosstab-difference",
                _("Synthetic minus protected: %(rows)s by %(cols)s", rows=la, cols=lb),
                _difference_view(ctx, data, axes),
                group=GROUP,
                notes=notes + [_("Only cells with a full protected count are compared.")],
                height=height,
                wide=True,
            ),
        ]
    # On a narrow screen the grids keep a readable width and scroll sideways.
    return html.Div(
        className="chart-grid xtab",
        style={"--xtab-min-width": f"{140 + 46 * len(data.xs)}px"},
        children=[synthetic_card, *compared_cards],
    )
