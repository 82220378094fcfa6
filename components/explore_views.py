"""The Explore page's views of many values: each value of one attribute (a chart and its table)
or of every attribute (small multiples), and the cross-tab of two attributes — each synthetic
count beside its protected count. The numbers come from analysis/explore_counts.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dash import dcc, html

from analysis import comparability as cmp
from analysis import comparison_text as cmp_words
from analysis.explore_counts import (
    MAX_AXIS,
    AttributeValues,
    Context,
    CrossTab,
    ValueRow,
    crosstab_data,
    sort_rows,
    value_rows,
)
from analysis.explore_state import ALL_ATTRIBUTES, ExploreState
from components import charts
from data.codebook import NOT_RECORDED
from i18n import _, ngettext
from i18n.numbers import format_count

GROUP = "explore"  # chart-card group of this page's cards
SYNTHETIC_COLOUR, PROTECTED_COLOUR = charts.OKABE_ITO[0], charts.OKABE_ITO[1]
# Blue where the synthetic count is below the protected one, vermillion where above, white at 0:
# two hues told apart with the common colour-vision deficiencies.
DIVERGING = ((0.0, "#0072B2"), (0.5, "#F7F7F7"), (1.0, "#D55E00"))
MINI_ROWS = 8  # values in each small multiple
MAX_BARS = 40  # values drawn in the one-attribute chart (its table lists all)


def signed(n: int | None) -> str:
    return "–" if n is None else ("+" if n > 0 else "−" if n < 0 else "") + format_count(abs(n))


def _score(c: cmp.Comparison) -> str:
    return "–" if c.score is None else cmp_words.percent(c.score)


def protected_text(c: cmp.Comparison) -> str:
    """The protected count as tables show it: "795", "≥ 795" (a lower bound), "≤ 795" (beyond the
    reporting length: an upper bound), "suppressed", or "–" (none)."""
    if c.protected is not None:
        return ("≥ " if c.status == cmp.LOWER_BOUND else "") + format_count(c.protected)
    if c.status == cmp.BEYOND and c.bound is not None:
        return f"≤ {format_count(c.bound)}"
    if c.parts and all(p.status == cmp.SUPPRESSED for p in c.parts):
        return _("suppressed")
    return "–"


def protected_cell(c: cmp.Comparison):
    """A table cell: the count itself (so low counts get their mark) when it is whole, else text."""
    return c.protected if c.status in (cmp.EXACT, cmp.DERIVED) else protected_text(c)


# --- per attribute -------------------------------------------------------------------------------


def comparison_table(ctx: Context, rows: list[ValueRow], attribute_label: str):
    return charts.data_table(
        [attribute_label, _("synthetic"), _("protected"), _("difference"), _("comparability"), _("note")],
        [
            [
                r.label,
                r.synthetic,
                protected_cell(r.comparison),
                signed(r.comparison.difference),
                _score(r.comparison),
                cmp_words.note(r.comparison, ctx.comparator.facts),
            ]
            for r in rows
        ],
    )


def _summary(what: str, rows: list[ValueRow], label_of) -> str:
    """“<what>; most synthetic records: …; n of them have a protected count; the largest gap …”."""
    if not rows:
        return _(charts.EMPTY_MESSAGE)
    top = max(rows, key=lambda r: r.synthetic)
    compared = [r for r in rows if r.comparison.difference is not None]
    text = (
        _(
            "%(what)s; most synthetic records: %(label)s (%(count)s).",
            what=what,
            label=label_of(top),
            count=format_count(top.synthetic),
        )
        + " "
        + ngettext("%(num)s of them has a protected count", "%(num)s of them have a protected count", len(compared))
    )
    if compared:
        gap = max(compared, key=lambda r: abs(r.comparison.difference))
        text += _(
            "; the largest gap is at %(label)s (%(difference)s)",
            label=label_of(gap),
            difference=signed(gap.comparison.difference),
        )
    return text + "."


def _attribute_summary(label: str, values: AttributeValues) -> str:
    shown = (
        ngettext(
            "%(num)s value of %(attribute)s",
            "%(num)s values of %(attribute)s",
            len(values.rows),
            attribute=label.lower(),
        )
        if values.complete
        else ngettext(
            "The %(shown)s of %(num)s value of %(attribute)s with the most records",
            "The %(shown)s of %(num)s values of %(attribute)s with the most records",
            values.with_records,
            shown=format_count(len(values.rows)),
            attribute=label.lower(),
        )
    )
    return _summary(shown, values.rows, lambda r: r.label)


def _interval_errors(rows: list[ValueRow]) -> dict:
    """Error bars of the protected counts' 95 % noise intervals (not below 0)."""
    intervals = [r.comparison.interval or (r.protected or 0, r.protected or 0) for r in rows]
    above = [high - (r.protected or 0) for r, (_, high) in zip(rows, intervals)]
    below = [(r.protected or 0) - low for r, (low, _) in zip(rows, intervals)]
    return {
        "type": "data",
        "symmetric": False,
        "array": above,
        "arrayminus": below,
        "visible": any(above),
        "color": "#1b1f24",
        "thickness": 1.2,
    }


def attribute_card(ctx: Context, state: ExploreState, name: str, values: AttributeValues):
    attribute = ctx.codebook[name]
    rows = sort_rows(values.rows, state.sort)
    drawn = rows
    notes = [
        _(
            "Protected bars carry their 95 % noise interval. A value without a protected count has no "
            "orange bar: its note in the table says why."
        )
    ]
    if len(rows) > MAX_BARS:
        largest = {id(r) for r in sorted(rows, key=lambda r: -r.synthetic)[:MAX_BARS]}
        drawn = [r for r in rows if id(r) in largest]
        notes.insert(
            0,
            _(
                "The chart draws the %(drawn)s values with the most synthetic records; the table lists all %(count)s.",
                drawn=MAX_BARS,
                count=format_count(len(rows)),
            ),
        )
    if name in state.filter.attributes:
        notes.insert(
            0,
            _(
                "Counted under the other filters: the filter on %(attribute)s itself is not applied "
                "here, so every value shows.",
                attribute=attribute.label.lower(),
            ),
        )
    title = _("%(attribute)s: synthetic and protected counts", attribute=attribute.label)
    summary = _attribute_summary(attribute.label, values)
    view = charts.bar_chart(
        title,
        [r.label for r in drawn],
        [
            charts.Series(_("synthetic records"), [r.synthetic for r in drawn], SYNTHETIC_COLOUR),
            charts.Series(_("protected count"), [r.protected or 0 for r in drawn], PROTECTED_COLOUR),
        ],
        horizontal=True,
        category_title=attribute.label,
        summary=summary,
    )
    if len(view.figure["data"]) == 2:
        view.figure["data"][1]["error_x"] = _interval_errors(drawn)
    view = charts.ChartView(view.figure, summary, comparison_table(ctx, rows, attribute.label))
    return charts.card(
        "by-attribute", title, view, group=GROUP, notes=notes, wide=True, height=max(320, 90 + 34 * len(drawn))
    )


def _mini_bar(count: int | None, peak: int, colour: str, text: str, title: str | None = None):
    """A cell holding a number over a bar (drawn as the cell's background: one component a cell)."""
    width = 0 if not count else max(1.0, 100.0 * count / peak)
    return html.Td(
        text,
        className="mini-cell",
        title=title,
        style={"backgroundImage": f"linear-gradient({colour}, {colour})", "backgroundSize": f"{width:.1f}% .45rem"},
    )


def mini_card(
    ctx: Context, state: ExploreState, key: str, title: str, rows: list[ValueRow], summary: str, label_of, footer=None
):
    """One small multiple: values as a table with bars (the table is the chart). Each value links
    to the selection filtered on it (or, when chosen, without it)."""
    shown = sort_rows(rows, state.sort)
    peak = max([max(r.synthetic, r.protected or 0) for r in shown] + [1])
    body = []
    for r in shown:
        selected = r.value in state.filter.values(r.attribute)
        target = (
            state.without_value(ctx.codebook, r.attribute, r.value)
            if selected
            else state.with_values(ctx.codebook, r.attribute, [r.value])
        )
        name = f"{ctx.codebook[r.attribute].label}: {r.label}"
        action = (
            _("Remove from the filter: %(value)s", value=name) if selected else _("Filter on %(value)s", value=name)
        )
        body.append(
            html.Tr(
                className="is-selected" if selected else None,
                children=[
                    html.Th(dcc.Link(label_of(r), href=target.href(), title=action), scope="row"),
                    _mini_bar(r.synthetic, peak, SYNTHETIC_COLOUR, format_count(r.synthetic)),
                    _mini_bar(
                        r.protected,
                        peak,
                        PROTECTED_COLOUR,
                        protected_text(r.comparison),
                        cmp_words.note(r.comparison, ctx.comparator.facts) or None,
                    ),
                ],
            )
        )
    return html.Section(
        className="mini-card",
        **{"aria-labelledby": key},
        children=[
            html.H3(title, id=key, className="mini-title"),
            html.P(summary, className="mini-summary"),
            html.Table(
                className="mini-table",
                children=[
                    html.Thead(
                        html.Tr(
                            [
                                html.Th(_("value"), scope="col"),
                                html.Th(_("synthetic"), scope="col"),
                                html.Th(_("protected"), scope="col"),
                            ]
                        )
                    ),
                    html.Tbody(body),
                ],
            )
            if body
            else html.P(_(charts.EMPTY_MESSAGE)),
            footer,
        ],
    )


def attribute_mini_card(ctx: Context, state: ExploreState, name: str, values: AttributeValues):
    label = ctx.codebook[name].label
    return mini_card(
        ctx,
        state,
        f"mini-{name}",
        label,
        values.rows,
        _attribute_summary(label, values),
        lambda r: r.label,
        dcc.Link(
            _("Open %(attribute)s on its own", attribute=label.lower()),
            className="mini-open",
            href=replace(state, view=name, notices=()).href(),
        ),
    )


def flag_group_card(
    ctx: Context, state: ExploreState, group: str, names: list[str], values: dict[str, AttributeValues]
):
    """A group of flags (means of control, recruiter relation …) in one small multiple: each flag
    set, and "not recorded" only where it is chosen."""
    rows = [r for n in names for r in values[n].rows if r.value is not None or None in state.filter.values(n)]

    def label_of(r: ValueRow) -> str:
        return ctx.codebook[r.attribute].label + ("" if r.value is not None else ": " + _(NOT_RECORDED))

    title = ctx.codebook[names[0]].group_label
    return mini_card(
        ctx,
        state,
        "mini-group-" + re.sub(r"[^A-Za-z0-9]+", "-", group),
        title,
        rows,
        _summary(
            ngettext("%(num)s flag of %(group)s", "%(num)s flags of %(group)s", len(names), group=title.lower()),
            rows,
            label_of,
        ),
        label_of,
    )


def small_multiples(ctx: Context, state: ExploreState, values: dict[str, AttributeValues]) -> list:
    """A card per attribute, in codebook order, the flags of one group sharing a card."""
    cards, done = [], set()
    groups = ctx.codebook.groups()
    for attribute in ctx.codebook:
        members = groups[attribute.group]
        if attribute.name in done:
            continue
        if attribute.kind == "flag" and len(members) > 1 and all(a.kind == "flag" for a in members):
            names = [a.name for a in members]
            cards.append(flag_group_card(ctx, state, attribute.group, names, values))
            done.update(names)
        else:
            cards.append(attribute_mini_card(ctx, state, attribute.name, values[attribute.name]))
    return cards


def attribute_view(ctx: Context, state: ExploreState):
    """The chosen attribute's chart and table, or every attribute as small multiples."""
    if state.view != ALL_ATTRIBUTES:
        return attribute_card(ctx, state, state.view, value_rows(ctx, state, [state.view])[state.view])
    names = ctx.codebook.names
    values = value_rows(ctx, state, names, limit=MINI_ROWS)
    longest = len(state.filter.attributes) + 1
    beyond = (
        [
            html.P(
                _(
                    "Adding a value to this selection makes combinations of %(longest)s attributes, more "
                    "than the reporting length (%(length)s): no protected counts exist for them, and the "
                    "notes give bounds instead.",
                    longest=longest,
                    length=ctx.reporting_length,
                ),
                className="explore-hint",
            )
        ]
        if ctx.release.get("has_aggregates") and longest > ctx.reporting_length
        else []
    )
    return html.Div(
        [
            *beyond,
            html.P(
                [
                    html.Span("■ ", style={"color": SYNTHETIC_COLOUR}, **{"aria-hidden": "true"}),
                    _("synthetic records"),
                    "  ",
                    html.Span("■ ", style={"color": PROTECTED_COLOUR}, **{"aria-hidden": "true"}),
                    _(
                        "protected count (≥: at least, some parts suppressed; ≤: at most, beyond the reporting "
                        "length). Select a value to filter on it; open an attribute on its own for every note."
                    ),
                ],
                className="mini-legend",
            ),
            html.Div(small_multiples(ctx, state, values), className="mini-grid"),
        ]
    )


# --- cross-tab -----------------------------------------------------------------------------------


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
        "colorbar": charts.heatmap_colorbar(colour_title),
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
        charts.heatmap_chart(
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
