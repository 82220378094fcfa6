"""Explore page: filter on any attributes and set the synthetic counts beside the protected ones —
for the whole selection (the comparability panel), for each value of one attribute or of all of
them (Synthetic Data Showcase's navigate view, components/explore_views.py), and for a cross-tab
of two attributes (components/explore_crosstab.py).

The numbers come from analysis/explore_counts.py; callbacks/explore.py calls these factories
again when the address changes.
"""

from __future__ import annotations

from dash import dcc, html

from analysis import comparability as cmp
from analysis import comparison_text as cmp_words
from analysis.address import NOT_RECORDED_TOKEN, Query
from analysis.explore_counts import (
    Context,
    context,
    crosstab_key,
    selection_comparison,
    value_counts,
)
from analysis.explore_state import ALL_ATTRIBUTES, SORTS, ExploreState, from_search
from components import charts, flow_chart, ids
from components.common import headline, notice
from components.explore_crosstab import crosstab
from components.explore_views import attribute_view, signed
from data.codebook import Codebook
from i18n import N_, _, ngettext
from i18n.numbers import format_count, format_fixed

ABOUT_DIFFERENCES = "/about"
# The page's controls, by name (see control_id), and its state store.
ATTRIBUTE, VALUES, VIEW, SORT, ROWS, COLS = "attribute", "values", "view", "sort", "rows", "cols"
STATE_ID = {"type": ids.EXPLORE_STATE, "page": "explore"}
NOTICE_CLASS = "explore-notice"  # the notice of address parts left out (common.notice)


# The panel's terms and what they mean (English; shown through gettext).
TERMS = (
    (
        N_("Protected count"),
        N_(
            "The release's differentially private count of exactly this combination of values. "
            "With several values of one attribute it is the sum over every exact combination; "
            "a combination the release does not list was suppressed, counts as 0 and makes the "
            "sum a lower bound (≥)."
        ),
    ),
    (
        N_("Comparability"),
        N_(
            "The smaller of the two counts divided by the larger: 100 % when they agree, 0 % when "
            "one of them is 0. Close: 90 % or more; fair: 75 % to 90 %; loose: 50 % to 75 %; "
            "poor: under 50 %."
        ),
    ),
    (
        N_("Relative difference"),
        N_(
            "Synthetic minus protected, as a share of the protected count: a shortfall when "
            "negative, an excess when positive."
        ),
    ),
    (
        N_("Difference in noise units (z)"),
        N_(
            "The difference divided by the standard deviation of the noise added to the protected "
            "count. Noise alone keeps |z| within 1.96 for 95 % of counts, so a larger |z| is a "
            "difference the noise does not explain; the verdict reads this first."
        ),
    ),
    (
        N_("95 % noise interval"),
        N_(
            "The protected count ± 1.96 standard deviations of the noise added to it "
            "(σ_k·√Δ_k at the combination's length k; added in quadrature when counts are "
            "summed or subtracted). It covers the noise only, not suppression."
        ),
    ),
    (
        N_("“Not recorded”"),
        N_(
            "The release counts only values that were recorded. A “not recorded” count is "
            "derived by subtraction — e.g. the count of Woman minus the count of Woman and "
            "forced labour gives Woman with forced labour not recorded — when every count it "
            "needs was released; otherwise it is unavailable."
        ),
    ),
)


def control_id(name: str) -> dict:
    return {"type": ids.EXPLORE_CONTROL, "name": name}


def describe_selection(codebook: Codebook, state: ExploreState) -> str:
    if not state.filter:
        return _("All records (no filter)")
    return _("; and ").join(
        f"{codebook[name].label}: " + _(" or ").join(codebook[name].label_of(v) for v in values)
        for name, values in state.filter.selections
    )


# --- the selection: pickers and chips ------------------------------------------------------------


def attribute_options(codebook: Codebook) -> list[dict]:
    return [
        {"label": f"{a.label} ({a.group_label})", "value": a.name, "search": f"{a.label} {a.group_label} {a.name}"}
        for a in codebook
    ]


def value_options(ctx: Context, state: ExploreState, name: str | None) -> list[dict]:
    """The values of `name`, each with its count under the other selections; "not recorded" when
    records lack the attribute (or it is chosen)."""
    if not name:
        return []
    counts = value_counts(ctx, state, name)
    chosen = state.filter.values(name)
    options = [
        {"label": f"{ctx.label(name, v)} ({format_count(n)})", "value": v} for v, n in counts.items() if v is not None
    ]
    if counts[None] or None in chosen:
        options.append(
            {"label": f"{ctx.label(name, None)} ({format_count(counts[None])})", "value": NOT_RECORDED_TOKEN}
        )
    return options


def picked_values(state: ExploreState, name: str | None) -> list[str]:
    return [NOT_RECORDED_TOKEN if v is None else v for v in state.filter.values(name)] if name else []


def chips(codebook: Codebook, state: ExploreState):
    """The filters as removable chips: values of one attribute joined by "or", attributes by "and"."""
    if not state.filter:
        return html.P(
            _("No filter: every record counts. Choose an attribute, then one or more of its values."),
            className="chips-empty",
        )
    groups = []
    for name, values in state.filter.selections:
        attribute = codebook[name]
        parts = [html.Span(attribute.label, className="chip-attribute")]
        for i, value in enumerate(values):
            text = f"{attribute.label}: {attribute.label_of(value)}"
            if i:
                parts.append(html.Span(_("or"), className="chip-join"))
            parts.append(
                html.Span(
                    className="chip",
                    children=[
                        html.Span(attribute.label_of(value)),
                        dcc.Link(
                            [
                                html.Span("×", **{"aria-hidden": "true"}),
                                html.Span(_("Remove %(filter)s", filter=text), className="visually-hidden"),
                            ],
                            href=state.without_value(codebook, name, value).href(),
                            className="chip-remove",
                            title=_("Remove %(filter)s", filter=text),
                        ),
                    ],
                )
            )
        groups.append(html.Li(parts, className="chip-group", **{"data-joiner": _("and")}))
    return html.Div(
        className="chips-bar",
        children=[
            html.Ul(groups, className="chips", **{"aria-label": _("Current filters (all of them apply)")}),
            dcc.Link(_("Clear all filters"), href=state.cleared().href(), className="chips-clear"),
        ],
    )


# --- the comparability panel --------------------------------------------------------------------


def _protected_figure(ctx: Context, c: cmp.Comparison):
    if c.status == cmp.NO_AGGREGATES:
        return headline(_("protected count"), _("not published"), _("this release came without protected aggregates"))
    if c.status == cmp.BEYOND:
        if c.bound is not None:
            value = (
                _("%(low)s to %(high)s", low=format_count(c.lower), high=format_count(c.bound))
                if c.lower
                else f"≤ {format_count(c.bound)}"
            )
        else:
            value = f"≥ {format_count(c.lower)}" if c.lower else _("none")
        return headline(
            _("protected count"),
            value,
            _(
                "the selection is longer than the reporting length (%(length)s): bounds from its shorter parts",
                length=ctx.reporting_length,
            ),
        )
    if c.protected is None:
        return headline(_("protected count"), _("none"), cmp_words.note(c, ctx.comparator.facts))
    prefix = "≥ " if c.status == cmp.LOWER_BOUND else ""
    interval = c.interval
    detail = (
        _(
            "95 %% noise interval %(low)s to %(high)s",
            low=format_count(round(interval[0])),
            high=format_count(round(interval[1])),
        )
        if interval
        else _("noise not published for this release")
    )
    if c.status != cmp.EXACT:
        detail += f" · {cmp_words.note(c, ctx.comparator.facts)}"
    return headline(_("protected count"), prefix + format_count(c.protected), detail)


def _parts_table(ctx: Context, c: cmp.Comparison):
    """Each exact combination of the selection and what the release says of it."""
    rows = []
    for p in c.parts:
        combination = ctx.comparator.describe(p.items)
        if p.count is not None:
            how = _("released") if p.status == cmp.EXACT else _("derived by subtraction")
            rows.append([combination, p.count, how])
        elif p.status == cmp.BEYOND:
            bounds = cmp_words.describe_bounds(p)
            rows.append([combination, "–", p.reason + (f" {bounds[:1].upper()}{bounds[1:]}." if bounds else "")])
        else:
            rows.append([combination, "–", p.reason])
    return charts.data_table(
        [_("exact combination"), _("protected count"), _("source")],
        rows,
        caption=_("The selection is the sum of these exact combinations."),
    )


def _noise_table(ctx: Context):
    facts = ctx.comparator.facts
    rows = [
        [
            _("length %(k)s", k=k),
            format_fixed(facts.noise_sd[k], 2),
            f"± {format_fixed(cmp.Z95 * facts.noise_sd[k], 1)}",
            format_fixed(facts.thresholds[k], 1) if k in facts.thresholds else "–",
        ]
        for k in sorted(facts.noise_sd)
    ]
    if facts.record_count_sd is not None:
        rows.insert(
            0,
            [
                _("record count"),
                format_fixed(facts.record_count_sd, 2),
                f"± {format_fixed(cmp.Z95 * facts.record_count_sd, 1)}",
                "–",
            ],
        )
    if not rows:
        return None
    return charts.data_table(
        [_("combination"), _("noise standard deviation σ_k·√Δ_k"), _("95 % of the noise within"), _("threshold")],
        rows,
        caption=_("This release's noise per combination length"),
    )


def explanation(ctx: Context):
    """How the panel's figures are worked out, and why the two counts differ."""
    r = ctx.reporting_length
    return html.Div(
        className="cmp-explain",
        children=[
            html.Details(
                [
                    html.Summary(_("How these figures are worked out")),
                    html.Dl(
                        [
                            *[part for term, meaning in TERMS for part in (html.Dt(_(term)), html.Dd(_(meaning)))],
                            html.Dt(_("Beyond the reporting length")),
                            html.Dd(
                                _(
                                    "Protected counts exist only for combinations of up to %(length)s values. For longer "
                                    "selections the smallest protected count of the selection's parts of %(length)s values "
                                    "bounds the count from above. From below: take a part T of %(shorter)s values and the m "
                                    "ways of adding one more of the selection's values to it. Every record those m "
                                    "combinations count also has T, so at least their counts' sum minus (m − 1) times T's "
                                    "count have every value of the selection. The panel takes the best T and subtracts 1.96 "
                                    "standard deviations of the noise of those counts, so that noise alone seldom lifts the "
                                    "bound above the true count; never below 0. The synthetic count is the only estimate, "
                                    "flagged when it lies outside the bounds by more than their noise.",
                                    length=r,
                                    shorter=r - 1,
                                )
                                if r
                                else _("This release has no protected counts.")
                            ),
                        ]
                    ),
                    _noise_table(ctx),
                ]
            ),
            html.P(
                className="cmp-why",
                children=[
                    html.Strong(_("Why the counts differ.")),
                    " ",
                    _(
                        "Noise was added to every protected count; combinations whose noisy count was too small "
                        "were suppressed; the synthetic records were generated from the protected counts, so they "
                        "can hold combinations that never occurred (fabrication) and drift further for long "
                        "combinations, which the release does not count beyond its reporting length."
                    ),
                    " ",
                    dcc.Link(_("More about the two kinds of numbers"), href=ABOUT_DIFFERENCES),
                ],
            ),
        ],
    )


def panel(ctx: Context, state: ExploreState):
    """The comparability panel for the current selection."""
    c = selection_comparison(ctx, state)
    v = cmp_words.verdict(c)
    figures = [
        headline(_("synthetic records"), format_count(c.synthetic), _("rows of the synthetic data matching")),
        _protected_figure(ctx, c),
    ]
    if c.difference is not None:
        figures.append(headline(_("difference"), signed(c.difference), cmp_words.describe_difference(c)))
        if c.z is not None:
            figures.append(
                headline(
                    _("difference in noise units"),
                    f"z = {cmp_words.signed_z(c.z)}",
                    _("within the noise (|z| ≤ 1.96 for 95 % of noisy counts)")
                    if c.within_noise
                    else _("beyond the noise (|z| ≤ 1.96 for 95 % of noisy counts)"),
                )
            )
        grade = cmp_words.grade_name(v.grade)
        figures.append(
            headline(
                _("comparability"),
                cmp_words.percent(c.score),
                _("%(grade)s (against a lower bound)", grade=grade) if c.status == cmp.LOWER_BOUND else grade,
            )
        )
    details = []
    if len(c.parts) > 1 or c.missing_parts or c.status == cmp.DERIVED:
        details.append(
            html.Details(
                open=bool(c.missing_parts) and len(c.parts) <= 12,
                children=[
                    html.Summary(
                        ngettext(
                            "The %(num)s exact combination behind the protected count",
                            "The %(num)s exact combinations behind the protected count",
                            len(c.parts),
                        )
                        + (
                            " — " + ngettext("%(num)s without a count", "%(num)s without a count", len(c.missing_parts))
                            if c.missing_parts
                            else ""
                        )
                    ),
                    html.Div(_parts_table(ctx, c), className="table-scroll"),
                ],
            )
        )
    elif c.status in (cmp.UNAVAILABLE, cmp.BEYOND) and c.reason:
        details.append(html.P(c.reason, className="cmp-reason"))
    return html.Section(
        className="cmp-panel",
        **{"aria-labelledby": "cmp-title"},
        children=[
            html.H2(_("Data comparability"), id="cmp-title"),
            html.P([_("For:"), " ", html.Strong(describe_selection(ctx.codebook, state))], className="cmp-for"),
            html.Div(figures, className="headlines cmp-figures"),
            html.P(v.text, className=f"cmp-verdict cmp-{v.grade or 'none'}"),
            *details,
            explanation(ctx),
        ],
    )


# --- the page ------------------------------------------------------------------------------------


def _picker(label: str, name: str, **dropdown):
    """A labelled dropdown whose id is the control `name` of the page's state."""
    label_id = f"explore-{name}-label"
    control = dcc.Dropdown(id=control_id(name), **dropdown)
    return html.Div(
        className="explore-control",
        role="group",
        **{"aria-labelledby": label_id},
        children=[html.Span(label, id=label_id, className="filter-label"), control],
    )


def view_options(codebook: Codebook) -> list[dict]:
    return [{"label": _("All attributes (small multiples)"), "value": ALL_ATTRIBUTES}] + attribute_options(codebook)


def _section(class_name: str, title_id: str, title: str, pickers: list, *body, intro=None):
    """A titled section of the page: its heading, an optional introduction, a row of pickers, then
    what the pickers drive."""
    heading = [html.H2(title, id=title_id)] + ([intro] if intro is not None else [])
    return html.Section(
        className=class_name,
        **{"aria-labelledby": title_id},
        children=[*heading, html.Div(className="explore-pickers", children=pickers), *body],
    )


def _selection_section(ctx, state):
    """The attribute and value pickers that add a filter, with the chips of the filters set."""
    return _section(
        "explore-filters",
        "explore-filters-title",
        _("Selection"),
        [
            _picker(
                _("Attribute"),
                ATTRIBUTE,
                options=attribute_options(ctx.codebook),
                placeholder=_("Find an attribute…"),
                clearable=True,
            ),
            _picker(
                _("Its values (any of them)"),
                VALUES,
                options=[],
                value=[],
                multi=True,
                disabled=True,
                placeholder=_("Choose an attribute first"),
                search_order="original",
            ),
        ],
        html.Div(chips(ctx.codebook, state), id=ids.EXPLORE_CHIPS, **{"aria-live": "polite"}),
    )


def _values_section(ctx, state):
    """Counts of each value of one attribute beside their protected counts."""
    intro = html.P(
        _(
            "Each value's synthetic count under the other filters, beside the protected count of the "
            "selection plus that value."
        ),
        className="section-intro",
    )
    return _section(
        "explore-section",
        "explore-values-title",
        _("Values of each attribute"),
        [
            _picker(
                _("Attribute"),
                VIEW,
                options=view_options(ctx.codebook),
                value=state.view,
                clearable=False,
            ),
            _picker(
                _("Sort by"),
                SORT,
                value=state.sort,
                clearable=False,
                searchable=False,
                options=[{"label": _(v), "value": k} for k, v in SORTS.items()],
            ),
        ],
        html.Div(attribute_view(ctx, state), id=ids.EXPLORE_VIEW_CONTENT),
        intro=intro,
    )


def _crosstab_section(ctx, state):
    """Counts of two attributes crossed, with the pickers for rows and columns."""
    return _section(
        "explore-section",
        "explore-crosstab-title",
        _("Cross-tab of two attributes"),
        [
            _picker(
                _("Rows"),
                ROWS,
                options=attribute_options(ctx.codebook),
                value=state.rows,
                placeholder=_("Choose an attribute…"),
            ),
            _picker(
                _("Columns"),
                COLS,
                options=attribute_options(ctx.codebook),
                value=state.cols,
                placeholder=_("Choose an attribute…"),
            ),
        ],
        html.Div(crosstab(ctx, state), id=ids.EXPLORE_CROSSTAB),
        dcc.Store(id=ids.EXPLORE_CROSSTAB_SHOWN, data=crosstab_key(state)),
    )


def layout(service, search: Query):
    ctx = context(service)
    state = from_search(ctx.codebook, search)
    return html.Div(
        className="explore",
        children=[
            dcc.Store(id=STATE_ID, data=state.data()),
            html.H1(_("Explore")),
            html.P(
                _(
                    "Filter the synthetic records on any attributes and see, next to each count, the protected "
                    "count the release published for the same combination — how far the synthetic data can be "
                    "trusted for that question."
                ),
                className="page-intro",
            ),
            html.Div(notice(state.notices, NOTICE_CLASS), id=ids.EXPLORE_NOTICE, role="status"),
            _selection_section(ctx, state),
            html.Div(panel(ctx, state), id=ids.EXPLORE_PANEL, **{"aria-live": "polite"}),
            _values_section(ctx, state),
            _crosstab_section(ctx, state),
            flow_chart.explore_section(ctx, state.filter),
        ],
    )
