"""Explore page: filter on any attributes and set the synthetic counts beside the protected ones —
for the whole selection (the comparability panel), for each value of one attribute or of all of
them (Synthetic Data Showcase's navigate view), and for a cross-tab of two attributes.

The factories here read through the data service (cached queries) and leave the arithmetic to
components/comparability.py; callbacks/explore.py calls them again when the address changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dash import dcc, html

from components import charts, filters, ids
from components import comparability as cmp
from components.explore_state import ALL_ATTRIBUTES, SORTS, ExploreState, from_query
from components.overview import headline
from components.url_state import NOT_RECORDED_TOKEN
from data.codebook import Codebook

GROUP = "explore"                 # chart-card group of this page's cards
SYNTHETIC_COLOUR, PROTECTED_COLOUR = charts.OKABE_ITO[0], charts.OKABE_ITO[1]
# Blue where the synthetic count is below the protected one, vermillion where above, white at 0:
# two hues told apart with the common colour-vision deficiencies.
DIVERGING = ((0.0, "#0072B2"), (0.5, "#F7F7F7"), (1.0, "#D55E00"))
MINI_ROWS = 8                     # values in each small multiple
MAX_BARS = 40                     # values drawn in the one-attribute chart (its table lists all)
MAX_AXIS = 20                     # values on each axis of the cross-tab
ABOUT_DIFFERENCES = "/about"
# The page's controls, by name (see control_id), and its state store.
ATTRIBUTE, VALUES, VIEW, SORT, ROWS, COLS = "attribute", "values", "view", "sort", "rows", "cols"
STATE_ID = {"type": ids.EXPLORE_STATE, "page": "explore"}
NOTICE_CLASS = "explore-notice"          # the notice of address parts left out (filters.notice)


def control_id(name: str) -> dict:
    return {"type": ids.EXPLORE_CONTROL, "name": name}


# --- data -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    service: object
    codebook: Codebook
    release: dict
    comparator: cmp.Comparator

    @property
    def reporting_length(self) -> int:
        return self.comparator.facts.reporting_length

    @property
    def view_comparator(self) -> cmp.Comparator:
        """For views of many values at once: lighter "not recorded" subtractions."""
        return self.comparator.with_max_terms(cmp.VIEW_MAX_TERMS)

    def label(self, name: str, value: str | None) -> str:
        return self.codebook[name].label_of(value)


def context(service) -> Context:
    store = service.store()
    return Context(service, store.codebook, store.release, cmp.Comparator.for_store(store, service.protected_counts))


@dataclass(frozen=True)
class ValueRow:
    attribute: str
    value: str | None
    label: str
    synthetic: int
    comparison: cmp.Comparison

    @property
    def protected(self) -> int | None:
        return self.comparison.protected


@dataclass(frozen=True)
class AttributeValues:
    rows: list[ValueRow]      # in codebook order, "not recorded" last
    with_records: int         # values with synthetic records, shown or not

    @property
    def complete(self) -> bool:
        return len(self.rows) >= self.with_records


def value_rows(ctx: Context, state: ExploreState, names: list[str],
               limit: int | None = None) -> dict[str, AttributeValues]:
    """For each attribute, each value's synthetic count under the selection's other attributes and
    its comparison with the protected count of (those selections + the value); values with
    neither a record nor a protected count are left out. With `limit`, an attribute with more
    values keeps only the `limit` with the most records and the chosen ones (the others are not
    compared at all)."""
    counts = ctx.service.navigate_counts(state.filter, names)
    requests, with_records = [], {}
    for name in names:
        values = counts[name]
        with_records[name] = sum(1 for n in values.values() if n)
        if limit and len(values) > limit + 1:
            kept = _most_records(values, limit) | set(state.filter.values(name))
            values = {v: n for v, n in values.items() if v in kept}
        others = state.filter.without(name).as_dict()
        requests += [(name, value, {**others, name: [value]}, n) for value, n in values.items()]
    comparisons = ctx.view_comparator.compare_many([(selection, n) for _, _, selection, n in requests])
    rows: dict[str, list[ValueRow]] = {name: [] for name in names}
    for (name, value, _, n), c in zip(requests, comparisons):
        if n or c.protected:
            rows[name].append(ValueRow(name, value, ctx.label(name, value), n, c))
    return {name: AttributeValues(rows[name], with_records[name]) for name in names}


def _most_records(counts: dict, limit: int) -> set:
    """The (at most) `limit` values with the most records, among those with any."""
    return set(sorted((v for v, n in counts.items() if n), key=lambda v: -counts[v])[:limit])


def sort_rows(rows: list[ValueRow], sort: str) -> list[ValueRow]:
    missing_last = float("inf")
    keys = {
        "order": None,
        "synthetic": lambda r: -r.synthetic,
        "protected": lambda r: -r.protected if r.protected is not None else missing_last,
        "difference": lambda r: -abs(r.comparison.difference) if r.comparison.difference is not None
        else missing_last,
        "comparability": lambda r: r.comparison.score if r.comparison.score is not None else missing_last,
    }
    key = keys.get(sort)
    return list(rows) if key is None else sorted(rows, key=key)


def _signed(n: int | None) -> str:
    return "–" if n is None else f"{n:+,}".replace("-", "−")


def _score(c: cmp.Comparison) -> str:
    return "–" if c.score is None else cmp.percent(c.score)


def protected_text(c: cmp.Comparison) -> str:
    """The protected count as tables show it: "795", "≥ 795" (a lower bound), "≤ 795" (beyond the
    reporting length: an upper bound), "suppressed", or "–" (none)."""
    if c.protected is not None:
        return ("≥ " if c.status == cmp.LOWER_BOUND else "") + f"{c.protected:,}"
    if c.status == cmp.BEYOND and c.bound is not None:
        return f"≤ {c.bound:,}"
    if c.parts and all(p.status == cmp.SUPPRESSED for p in c.parts):
        return "suppressed"
    return "–"


def protected_cell(c: cmp.Comparison):
    """A table cell: the count itself (so low counts get their mark) when it is whole, else text."""
    return c.protected if c.status in (cmp.EXACT, cmp.DERIVED) else protected_text(c)


def describe_selection(codebook: Codebook, state: ExploreState) -> str:
    if not state.filter:
        return "All records (no filter)"
    return "; and ".join(
        f"{codebook[name].label}: " + " or ".join(codebook[name].label_of(v) for v in values)
        for name, values in state.filter.selections)


# --- the selection: pickers and chips ------------------------------------------------------------

def attribute_options(codebook: Codebook) -> list[dict]:
    return [{"label": f"{a.label} ({a.group})", "value": a.name, "search": f"{a.label} {a.group} {a.name}"}
            for a in codebook]


def value_options(ctx: Context, state: ExploreState, name: str | None) -> list[dict]:
    """The values of `name`, each with its count under the other selections; "not recorded" when
    records lack the attribute (or it is chosen)."""
    if not name:
        return []
    counts = ctx.service.navigate_counts(state.filter, [name])[name]
    chosen = state.filter.values(name)
    options = [{"label": f"{ctx.label(name, v)} ({n:,})", "value": v} for v, n in counts.items() if v is not None]
    if counts[None] or None in chosen:
        options.append({"label": f"{ctx.label(name, None)} ({counts[None]:,})", "value": NOT_RECORDED_TOKEN})
    return options


def picked_values(state: ExploreState, name: str | None) -> list[str]:
    return [NOT_RECORDED_TOKEN if v is None else v for v in state.filter.values(name)] if name else []


def chips(codebook: Codebook, state: ExploreState):
    """The filters as removable chips: values of one attribute joined by "or", attributes by "and"."""
    if not state.filter:
        return html.P("No filter: every record counts. Choose an attribute, then one or more of its values.",
                      className="chips-empty")
    groups = []
    for name, values in state.filter.selections:
        attribute = codebook[name]
        parts = [html.Span(attribute.label, className="chip-attribute")]
        for i, value in enumerate(values):
            text = f"{attribute.label}: {attribute.label_of(value)}"
            if i:
                parts.append(html.Span("or", className="chip-join"))
            parts.append(html.Span(className="chip", children=[
                html.Span(attribute.label_of(value)),
                dcc.Link([html.Span("×", **{"aria-hidden": "true"}),
                          html.Span(f"Remove {text}", className="visually-hidden")],
                         href=state.without_value(codebook, name, value).href(),
                         className="chip-remove", title=f"Remove {text}"),
            ]))
        groups.append(html.Li(parts, className="chip-group"))
    return html.Div(className="chips-bar", children=[
        html.Ul(groups, className="chips", **{"aria-label": "Current filters (all of them apply)"}),
        dcc.Link("Clear all filters", href=state.cleared().href(), className="chips-clear"),
    ])


# --- the comparability panel --------------------------------------------------------------------

def _protected_figure(ctx: Context, c: cmp.Comparison):
    if c.status == cmp.NO_AGGREGATES:
        return headline("protected count", "not published",
                        "this release came without protected aggregates")
    if c.status == cmp.BEYOND:
        value = f"≤ {c.bound:,}" if c.bound is not None else "none"
        return headline("protected count", value, f"the selection is longer than the reporting length "
                                                  f"({ctx.reporting_length}); this is an upper bound")
    if c.protected is None:
        return headline("protected count", "none", cmp.note(c, ctx.comparator.facts))
    prefix = "≥ " if c.status == cmp.LOWER_BOUND else ""
    interval = c.interval
    detail = (f"95 % noise interval {interval[0]:,.0f} to {interval[1]:,.0f}" if interval
              else "noise not published for this release")
    if c.status != cmp.EXACT:
        detail += f" · {cmp.note(c, ctx.comparator.facts)}"
    return headline("protected count", prefix + f"{c.protected:,}", detail)


def _parts_table(ctx: Context, c: cmp.Comparison):
    """Each exact combination of the selection and what the release says of it."""
    rows = []
    for p in c.parts:
        combination = ctx.comparator.describe(p.items)
        if p.count is not None:
            how = "released" if p.status == cmp.EXACT else "derived by subtraction"
            rows.append([combination, p.count, how])
        elif p.status == cmp.BEYOND:
            rows.append([combination, "–", p.reason + (f" At most {p.bound:,}." if p.bound is not None else "")])
        else:
            rows.append([combination, "–", p.reason])
    return charts.data_table(["exact combination", "protected count", "source"], rows,
                             caption="The selection is the sum of these exact combinations.")


def _noise_table(ctx: Context):
    facts = ctx.comparator.facts
    rows = [[f"length {k}", f"{facts.noise_sd[k]:,.2f}", f"± {cmp.Z95 * facts.noise_sd[k]:,.1f}",
             f"{facts.thresholds[k]:,.1f}" if k in facts.thresholds else "–"]
            for k in sorted(facts.noise_sd)]
    if facts.record_count_sd is not None:
        rows.insert(0, ["record count", f"{facts.record_count_sd:,.2f}",
                        f"± {cmp.Z95 * facts.record_count_sd:,.1f}", "–"])
    if not rows:
        return None
    return charts.data_table(["combination", "noise standard deviation σ_k·√Δ_k", "95 % of the noise within",
                              "threshold"], rows, caption="This release's noise per combination length")


def explanation(ctx: Context):
    """How the panel's figures are worked out, and why the two counts differ."""
    r = ctx.reporting_length
    return html.Div(className="cmp-explain", children=[
        html.Details([
            html.Summary("How these figures are worked out"),
            html.Dl([
                html.Dt("Protected count"),
                html.Dd("The release's differentially private count of exactly this combination of values. "
                        "With several values of one attribute it is the sum over every exact combination; "
                        "a combination the release does not list was suppressed, counts as 0 and makes the "
                        "sum a lower bound (≥)."),
                html.Dt("Comparability"),
                html.Dd("The smaller of the two counts divided by the larger: 100 % when they agree, 0 % when "
                        "one of them is 0. Close: 90 % or more; fair: 75 % to 90 %; loose: 50 % to 75 %; "
                        "poor: under 50 %."),
                html.Dt("Relative difference"),
                html.Dd("Synthetic minus protected, as a share of the protected count: a shortfall when "
                        "negative, an excess when positive."),
                html.Dt("95 % noise interval"),
                html.Dd("The protected count ± 1.96 standard deviations of the noise added to it "
                        "(σ_k·√Δ_k at the combination's length k; added in quadrature when counts are "
                        "summed or subtracted). It covers the noise only, not suppression."),
                html.Dt("“Not recorded”"),
                html.Dd("The release counts only values that were recorded. A “not recorded” count is "
                        "derived by subtraction — e.g. the count of Woman minus the count of Woman and "
                        "forced labour gives Woman with forced labour not recorded — when every count it "
                        "needs was released; otherwise it is unavailable."),
                html.Dt("Beyond the reporting length"),
                html.Dd(f"Protected counts exist only for combinations of up to {r} values. For longer "
                        f"selections the smallest protected count of the selection's parts of {r} values "
                        "bounds the count from above, and the synthetic count is the only estimate."
                        if r else "This release has no protected counts."),
            ]),
            _noise_table(ctx),
        ]),
        html.P(className="cmp-why", children=[
            html.Strong("Why the counts differ. "),
            "Noise was added to every protected count; combinations whose noisy count was too small "
            "were suppressed; the synthetic records were generated from the protected counts, so they "
            "can hold combinations that never occurred (fabrication) and drift further for long "
            "combinations, which the release does not count beyond its reporting length. ",
            dcc.Link("More about the two kinds of numbers", href=ABOUT_DIFFERENCES),
        ]),
    ])


def panel(ctx: Context, state: ExploreState):
    """The comparability panel for the current selection."""
    synthetic = ctx.service.count(state.filter)
    c = ctx.comparator.compare(state.filter.as_dict(), synthetic)
    v = cmp.verdict(c)
    figures = [headline("synthetic records", f"{synthetic:,}", "rows of the synthetic data matching"),
               _protected_figure(ctx, c)]
    if c.difference is not None:
        figures.append(headline("difference", _signed(c.difference), cmp.describe_difference(c)))
        figures.append(headline("comparability", cmp.percent(c.score),
                                v.grade + (" (against a lower bound)" if c.status == cmp.LOWER_BOUND else "")))
    details = []
    if len(c.parts) > 1 or c.missing_parts or c.status == cmp.DERIVED:
        details.append(html.Details(open=bool(c.missing_parts) and len(c.parts) <= 12, children=[
            html.Summary(f"The {len(c.parts)} exact combination{'s' if len(c.parts) != 1 else ''} "
                         "behind the protected count" + (f" — {len(c.missing_parts)} without a count"
                                                         if c.missing_parts else "")),
            html.Div(_parts_table(ctx, c), className="table-scroll"),
        ]))
    elif c.status in (cmp.UNAVAILABLE, cmp.BEYOND) and c.reason:
        details.append(html.P(c.reason, className="cmp-reason"))
    return html.Section(className="cmp-panel", **{"aria-labelledby": "cmp-title"}, children=[
        html.H2("Data comparability", id="cmp-title"),
        html.P(["For: ", html.Strong(describe_selection(ctx.codebook, state))], className="cmp-for"),
        html.Div(figures, className="headlines cmp-figures"),
        html.P(v.text, className=f"cmp-verdict cmp-{v.grade or 'none'}"),
        *details,
        explanation(ctx),
    ])


# --- per attribute -------------------------------------------------------------------------------

def comparison_table(ctx: Context, rows: list[ValueRow], attribute_label: str):
    return charts.data_table(
        [attribute_label, "synthetic", "protected", "difference", "comparability", "note"],
        [[r.label, r.synthetic, protected_cell(r.comparison),
          _signed(r.comparison.difference), _score(r.comparison), cmp.note(r.comparison, ctx.comparator.facts)]
         for r in rows])


def _summary(what: str, rows: list[ValueRow], label_of) -> str:
    """“<what>; most synthetic records: …; n of them have a protected count; the largest gap …”."""
    if not rows:
        return charts.EMPTY_MESSAGE
    top = max(rows, key=lambda r: r.synthetic)
    compared = [r for r in rows if r.comparison.difference is not None]
    text = (f"{what}; most synthetic records: {label_of(top)} ({top.synthetic:,}). "
            f"{len(compared)} of them have a protected count")
    if compared:
        gap = max(compared, key=lambda r: abs(r.comparison.difference))
        text += f"; the largest gap is at {label_of(gap)} ({_signed(gap.comparison.difference)})"
    return text + "."


def _attribute_summary(label: str, values: AttributeValues) -> str:
    shown = (f"{len(values.rows)} values of {label.lower()}" if values.complete else
             f"The {len(values.rows)} of {values.with_records} values of {label.lower()} with the most records")
    return _summary(shown, values.rows, lambda r: r.label)


def _interval_errors(rows: list[ValueRow]) -> dict:
    """Error bars of the protected counts' 95 % noise intervals (not below 0)."""
    intervals = [r.comparison.interval or (r.protected or 0, r.protected or 0) for r in rows]
    above = [high - (r.protected or 0) for r, (_, high) in zip(rows, intervals)]
    below = [(r.protected or 0) - low for r, (low, _) in zip(rows, intervals)]
    return {"type": "data", "symmetric": False, "array": above, "arrayminus": below, "visible": any(above),
            "color": "#1b1f24", "thickness": 1.2}


def attribute_card(ctx: Context, state: ExploreState, name: str, values: AttributeValues):
    attribute = ctx.codebook[name]
    rows = sort_rows(values.rows, state.sort)
    drawn = rows
    notes = ["Protected bars carry their 95 % noise interval. A value without a protected count has no "
             "orange bar: its note in the table says why."]
    if len(rows) > MAX_BARS:
        largest = {id(r) for r in sorted(rows, key=lambda r: -r.synthetic)[:MAX_BARS]}
        drawn = [r for r in rows if id(r) in largest]
        notes.insert(0, f"The chart draws the {MAX_BARS} values with the most synthetic records; "
                        f"the table lists all {len(rows)}.")
    if name in state.filter.attributes:
        notes.insert(0, f"Counted under the other filters: the filter on {attribute.label.lower()} "
                        "itself is not applied here, so every value shows.")
    title = f"{attribute.label}: synthetic and protected counts"
    summary = _attribute_summary(attribute.label, values)
    view = charts.bar_chart(title, [r.label for r in drawn], [
        charts.Series("synthetic records", [r.synthetic for r in drawn], SYNTHETIC_COLOUR),
        charts.Series("protected count", [r.protected or 0 for r in drawn], PROTECTED_COLOUR),
    ], horizontal=True, category_title=attribute.label, value_title="records", summary=summary)
    if len(view.figure["data"]) == 2:
        view.figure["data"][1]["error_x"] = _interval_errors(drawn)
    view = charts.ChartView(view.figure, summary, comparison_table(ctx, rows, attribute.label))
    return charts.card("by-attribute", title, view, group=GROUP, notes=notes, wide=True,
                       height=max(320, 90 + 34 * len(drawn)))


def _mini_bar(count: int | None, peak: int, colour: str, text: str, title: str | None = None):
    """A cell holding a number over a bar (drawn as the cell's background: one component a cell)."""
    width = 0 if not count else max(1.0, 100.0 * count / peak)
    return html.Td(text, className="mini-cell", title=title, style={
        "backgroundImage": f"linear-gradient({colour}, {colour})", "backgroundSize": f"{width:.1f}% .45rem"})


def mini_card(ctx: Context, state: ExploreState, key: str, title: str, rows: list[ValueRow], summary: str,
              label_of, footer=None):
    """One small multiple: values as a table with bars (the table is the chart). Each value links
    to the selection filtered on it (or, when chosen, without it)."""
    shown = sort_rows(rows, state.sort)
    peak = max([max(r.synthetic, r.protected or 0) for r in shown] + [1])
    body = []
    for r in shown:
        selected = r.value in state.filter.values(r.attribute)
        target = (state.without_value(ctx.codebook, r.attribute, r.value) if selected
                  else state.with_values(ctx.codebook, r.attribute, [r.value]))
        action = "Remove from the filter" if selected else "Filter on"
        name = f"{ctx.codebook[r.attribute].label}: {r.label}"
        body.append(html.Tr(className="is-selected" if selected else None, children=[
            html.Th(dcc.Link(label_of(r), href=target.href(), title=f"{action} {name}"), scope="row"),
            _mini_bar(r.synthetic, peak, SYNTHETIC_COLOUR, f"{r.synthetic:,}"),
            _mini_bar(r.protected, peak, PROTECTED_COLOUR, protected_text(r.comparison),
                      cmp.note(r.comparison, ctx.comparator.facts) or None),
        ]))
    return html.Section(className="mini-card", **{"aria-labelledby": key}, children=[
        html.H3(title, id=key, className="mini-title"),
        html.P(summary, className="mini-summary"),
        html.Table(className="mini-table", children=[
            html.Thead(html.Tr([html.Th("value", scope="col"), html.Th("synthetic", scope="col"),
                                html.Th("protected", scope="col")])),
            html.Tbody(body),
        ]) if body else html.P(charts.EMPTY_MESSAGE),
        footer,
    ])


def attribute_mini_card(ctx: Context, state: ExploreState, name: str, values: AttributeValues):
    label = ctx.codebook[name].label
    return mini_card(ctx, state, f"mini-{name}", label, values.rows, _attribute_summary(label, values),
                     lambda r: r.label, dcc.Link(f"Open {label.lower()} on its own", className="mini-open",
                                                 href=replace(state, view=name, notices=()).href()))


def flag_group_card(ctx: Context, state: ExploreState, group: str, names: list[str],
                    values: dict[str, AttributeValues]):
    """A group of flags (means of control, recruiter relation …) in one small multiple: each flag
    set, and "not recorded" only where it is chosen."""
    rows = [r for n in names for r in values[n].rows if r.value is not None or None in state.filter.values(n)]

    def label_of(r: ValueRow) -> str:
        return ctx.codebook[r.attribute].label + ("" if r.value is not None else ": not recorded")

    title = group[:1].upper() + group[1:]
    return mini_card(ctx, state, "mini-group-" + re.sub(r"[^A-Za-z0-9]+", "-", group), title, rows,
                     _summary(f"{len(names)} flags of {group}", rows, label_of), label_of)


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
    beyond = ([html.P(f"Adding a value to this selection makes combinations of {longest} attributes, more "
                      f"than the reporting length ({ctx.reporting_length}): no protected counts exist for "
                      "them, and the notes give bounds instead.", className="explore-hint")]
              if ctx.release.get("has_aggregates") and longest > ctx.reporting_length else [])
    return html.Div([
        *beyond,
        html.P([html.Span("■ ", style={"color": SYNTHETIC_COLOUR}, **{"aria-hidden": "true"}), "synthetic records  ",
                html.Span("■ ", style={"color": PROTECTED_COLOUR}, **{"aria-hidden": "true"}),
                "protected count (≥: at least, some parts suppressed; ≤: at most, beyond the reporting "
                "length). Select a value to filter on it; open an attribute on its own for every note."],
               className="mini-legend"),
        html.Div(small_multiples(ctx, state, values), className="mini-grid"),
    ])


# --- cross-tab -----------------------------------------------------------------------------------

def _axis(codebook: Codebook, name: str, totals: dict) -> list:
    """The axis' values: those with records, at most MAX_AXIS (the largest), in codebook order."""
    kept = _most_records(totals, MAX_AXIS)
    return [v for v in list(codebook[name].values) + [None] if v in kept]


def _grid_view(title: str, xs: list[str], ys: list[str], z, text, hover, *, x_title: str, y_title: str,
               scale, summary: str, table, colour_title: str, diverging: bool = False) -> charts.ChartView:
    """A heatmap of values that may be missing (None: an empty cell); `diverging` centres the
    colour scale on 0."""
    present = [v for row in z for v in row if v is not None]
    if not present:
        return charts.ChartView(charts.empty_figure(title, "No cell has a value to show."), summary, table)
    trace = {
        "type": "heatmap", "x": [charts.wrap_label(x, 12) for x in xs], "y": list(ys), "z": z,
        "text": text, "texttemplate": "%{text}",
        "customdata": hover, "hoverongaps": False, "xgap": 2, "ygap": 2, "textfont": {"size": 11},
        "colorscale": [list(stop) for stop in scale],
        "colorbar": {"title": {"text": colour_title}, "thickness": 10, "orientation": "h", "y": -0.02,
                     "yanchor": "top", "len": 0.6, "tickangle": 0},
        "hovertemplate": f"{y_title} %{{y}}, {x_title} %{{x}}: %{{customdata}}<extra></extra>",
    }
    if diverging:
        spread = max(abs(v) for v in present) or 1
        trace.update({"zmid": 0, "zmin": -spread, "zmax": spread})
    layout = charts.base_layout(title, xaxis={"title": {"text": x_title}, "type": "category", "automargin": True,
                                              "side": "top", "tickangle": 0},
                                yaxis={"title": {"text": y_title}, "type": "category", "automargin": True,
                                       "autorange": "reversed"})
    return charts.ChartView({"data": [trace], "layout": layout}, summary, table)


def crosstab_key(state: ExploreState) -> list:
    """What the cross-tab depends on: it is left alone when other parts of the address change."""
    return [state.filter.cache_key(), state.rows, state.cols]


@dataclass(frozen=True)
class CrossTab:
    """The cross-tab's numbers: row and column values, and each cell's comparison (with its
    synthetic count) under the other selections."""
    rows: str
    cols: str
    ys: list
    xs: list
    cells: dict          # (row value, column value) -> cmp.Comparison
    others: int          # attributes of the other selections

    def grid(self, show) -> list[list]:
        return [[show(self.cells[va, vb]) for vb in self.xs] for va in self.ys]


def crosstab_data(ctx: Context, state: ExploreState) -> CrossTab | None:
    """One pass over the records' codes for the synthetic counts, one lookup for the protected
    ones; None until two attributes are chosen."""
    a, b = state.rows, state.cols
    if not (a and b):
        return None
    synthetic = ctx.service.pair_counts(state.filter, a, b)
    row_totals: dict = {}
    col_totals: dict = {}
    for (va, vb), n in synthetic.items():
        row_totals[va] = row_totals.get(va, 0) + n
        col_totals[vb] = col_totals.get(vb, 0) + n
    ys, xs = _axis(ctx.codebook, a, row_totals), _axis(ctx.codebook, b, col_totals)
    others = state.filter.without(a).without(b).as_dict()
    pairs = [(va, vb) for va in ys for vb in xs]
    comparisons = ctx.view_comparator.compare_many(
        [({**others, a: [va], b: [vb]}, synthetic.get((va, vb), 0)) for va, vb in pairs])
    return CrossTab(a, b, ys, xs, dict(zip(pairs, comparisons)), len(others))


def crosstab(ctx: Context, state: ExploreState):
    """Synthetic counts, protected counts and their difference for every pair of values of the two
    chosen attributes, under the other selections."""
    data = crosstab_data(ctx, state)
    if data is None:
        return html.P("Choose an attribute for the rows and another for the columns to see every pair of "
                      "their values.", className="explore-hint")
    if not data.ys or not data.xs:
        return html.P(charts.EMPTY_MESSAGE, className="explore-hint")
    a, b, r = data.rows, data.cols, ctx.reporting_length
    y_labels = [charts.wrap_label(ctx.label(a, v), 18) for v in data.ys]     # tables turn <br> into spaces
    x_labels = [ctx.label(b, v) for v in data.xs]
    la, lb = ctx.codebook[a].label, ctx.codebook[b].label

    def hover(c: cmp.Comparison) -> str:
        why = cmp.note(c, ctx.comparator.facts)
        return protected_text(c) + (f" ({why})" if why else "")

    def whole(c: cmp.Comparison) -> bool:
        return c.status in (cmp.EXACT, cmp.DERIVED)

    compared = data.grid(lambda c: c.difference if whole(c) else None)
    with_count = sum(c.protected is not None for c in data.cells.values())
    # By score only: pairs may hold None ("not recorded"), which does not compare with text.
    worst = min(((c.score, pair) for pair, c in data.cells.items() if c.score is not None),
                key=lambda item: item[0], default=None)
    longest = data.others + 2
    protected_view = _grid_view(
        f"Protected counts: {la} by {lb}", x_labels, y_labels, data.grid(lambda c: c.protected),
        data.grid(lambda c: "" if c.protected is None else ("≥" if c.status == cmp.LOWER_BOUND else "")
                  + charts.fmt_compact(c.protected) + ("*" if 0 < c.protected < charts.LOW_COUNT else "")),
        data.grid(hover), x_title=lb, y_title=la, scale=charts.SEQUENTIAL, colour_title="count",
        summary=f"{with_count} of {len(data.cells)} cells have a protected count"
                + (f"; combinations here have {longest} attributes, more than the reporting length "
                   f"{r}, so none exists." if longest > r else "."),
        table=charts.data_table([f"{la} \\ {lb}"] + x_labels,
                                [[y] + row for y, row in zip(y_labels, data.grid(protected_cell))]))
    difference_view = _grid_view(
        f"Synthetic minus protected: {la} by {lb}", x_labels, y_labels, compared,
        [["" if d is None else ("+" if d > 0 else "−" if d < 0 else "") + charts.fmt_compact(abs(d))
          for d in row] for row in compared],
        data.grid(lambda c: _signed(c.difference) + " records" if whole(c) else "not compared: " + hover(c)),
        x_title=lb, y_title=la, scale=DIVERGING, diverging=True, colour_title="difference",
        summary=("Blue: fewer synthetic records than the protected count; vermillion: more. "
                 + (f"Lowest comparability: {ctx.label(a, worst[1][0])} · {ctx.label(b, worst[1][1])} "
                    f"({cmp.percent(worst[0])})." if worst else "No cell has both counts.")),
        table=charts.data_table([f"{la} \\ {lb}"] + x_labels,
                                [[y] + [_signed(d) if d is not None else "–" for d in row]
                                 for y, row in zip(y_labels, compared)]))
    height = max(300, 130 + 30 * len(data.ys))
    notes = []
    if len(data.xs) == MAX_AXIS or len(data.ys) == MAX_AXIS:
        notes.append(f"Each axis shows at most the {MAX_AXIS} values with the most synthetic records.")
    if a in state.filter.attributes or b in state.filter.attributes:
        notes.append(f"The filters on {la.lower()} and {lb.lower()} are not applied here: they are the table's axes.")
    synthetic_card = charts.card(
        "crosstab-synthetic", f"Synthetic records: {la} by {lb}",
        charts.heatmap_chart(f"Synthetic records: {la} by {lb}", x_labels, y_labels,
                             data.grid(lambda c: c.synthetic), x_title=lb, y_title=la),
        group=GROUP, notes=notes, height=height, wide=True)
    if longest > r and ctx.release.get("has_aggregates"):
        compared_part = html.Section(className="xtab-beyond", **{"aria-labelledby": "xtab-beyond-title"}, children=[
            html.H3("No protected counts for these cells", id="xtab-beyond-title"),
            html.P(f"With the other filters each cell combines {longest} attributes, more than the release's "
                   f"reporting length ({r}): there are no protected counts to compare, and the synthetic counts "
                   "are the only estimate. Remove a filter to compare, or read the upper bounds the protected "
                   "counts give."),
            html.Details([html.Summary("Upper bounds from the protected counts"), html.Div(
                charts.data_table([f"{la} \\ {lb}"] + x_labels,
                                  [[y] + row for y, row in zip(y_labels, data.grid(protected_text))]),
                className="table-scroll")]),
        ])
        compared_cards = [compared_part]
    else:
        compared_cards = [
            charts.card("crosstab-protected", f"Protected counts: {la} by {lb}", protected_view, group=GROUP,
                        notes=notes + ["“≥”: some parts of the cell were suppressed, so the count is a lower "
                                       "bound."], height=height, wide=True),
            charts.card("crosstab-difference", f"Synthetic minus protected: {la} by {lb}", difference_view,
                        group=GROUP, notes=notes + ["Only cells with a full protected count are compared."],
                        height=height, wide=True),
        ]
    # On a narrow screen the grids keep a readable width and scroll sideways.
    return html.Div(className="chart-grid xtab", style={"--xtab-min-width": f"{140 + 46 * len(data.xs)}px"},
                    children=[synthetic_card, *compared_cards])


# --- the page ------------------------------------------------------------------------------------

def _labelled(label: str, name: str, control):
    label_id = f"explore-{name}-label"
    return html.Div(className="explore-control", role="group", **{"aria-labelledby": label_id}, children=[
        html.Span(label, id=label_id, className="filter-label"), control])


def view_options(codebook: Codebook) -> list[dict]:
    return [{"label": "All attributes (small multiples)", "value": ALL_ATTRIBUTES}] + attribute_options(codebook)


def layout(service, query: dict):
    ctx = context(service)
    state = from_query(ctx.codebook, query)
    return html.Div(className="explore", children=[
        dcc.Store(id=STATE_ID, data=state.data()),
        html.H1("Explore"),
        html.P("Filter the synthetic records on any attributes and see, next to each count, the protected "
               "count the release published for the same combination — how far the synthetic data can be "
               "trusted for that question.", className="page-intro"),
        html.Div(filters.notice(state.notices, NOTICE_CLASS), id=ids.EXPLORE_NOTICE, role="status"),
        html.Section(className="explore-filters", **{"aria-labelledby": "explore-filters-title"}, children=[
            html.H2("Selection", id="explore-filters-title"),
            html.Div(className="explore-pickers", children=[
                _labelled("Attribute", ATTRIBUTE, dcc.Dropdown(
                    id=control_id(ATTRIBUTE), options=attribute_options(ctx.codebook),
                    placeholder="Find an attribute…", clearable=True)),
                _labelled("Its values (any of them)", VALUES, dcc.Dropdown(
                    id=control_id(VALUES), options=[], value=[], multi=True, disabled=True,
                    placeholder="Choose an attribute first", search_order="original")),
            ]),
            html.Div(chips(ctx.codebook, state), id=ids.EXPLORE_CHIPS, **{"aria-live": "polite"}),
        ]),
        html.Div(panel(ctx, state), id=ids.EXPLORE_PANEL, **{"aria-live": "polite"}),
        html.Section(className="explore-section", **{"aria-labelledby": "explore-values-title"}, children=[
            html.H2("Values of each attribute", id="explore-values-title"),
            html.P("Each value's synthetic count under the other filters, beside the protected count of the "
                   "selection plus that value.", className="section-intro"),
            html.Div(className="explore-pickers", children=[
                _labelled("Attribute", VIEW, dcc.Dropdown(
                    id=control_id(VIEW), options=view_options(ctx.codebook), value=state.view, clearable=False)),
                _labelled("Sort by", SORT, dcc.Dropdown(
                    id=control_id(SORT), value=state.sort, clearable=False, searchable=False,
                    options=[{"label": v, "value": k} for k, v in SORTS.items()])),
            ]),
            html.Div(attribute_view(ctx, state), id=ids.EXPLORE_VIEW_CONTENT),
        ]),
        html.Section(className="explore-section", **{"aria-labelledby": "explore-crosstab-title"}, children=[
            html.H2("Cross-tab of two attributes", id="explore-crosstab-title"),
            html.Div(className="explore-pickers", children=[
                _labelled("Rows", ROWS, dcc.Dropdown(
                    id=control_id(ROWS), options=attribute_options(ctx.codebook), value=state.rows,
                    placeholder="Choose an attribute…")),
                _labelled("Columns", COLS, dcc.Dropdown(
                    id=control_id(COLS), options=attribute_options(ctx.codebook), value=state.cols,
                    placeholder="Choose an attribute…")),
            ]),
            html.Div(crosstab(ctx, state), id=ids.EXPLORE_CROSSTAB),
            dcc.Store(id=ids.EXPLORE_CROSSTAB_SHOWN, data=crosstab_key(state)),
        ]),
    ])
