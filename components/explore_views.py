"""The Explore page's views of many values: each value of one attribute (a chart and its table)
or of every attribute (small multiples) — each synthetic count beside its protected count. The
cross-tab of two attributes is in explore_crosstab.py; the numbers come from analysis/explore_counts.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dash import dcc, html

from analysis import comparability as cmp
from analysis import comparison_text as cmp_words
from analysis.explore_counts import (
    AttributeValues,
    Context,
    ValueRow,
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
