"""The Explore page's numbers: synthetic counts from the data service (cached queries) set
beside the protected counts by the comparability arithmetic — for the whole selection, for each
value of one or every attribute, and for a cross-tab of two attributes. No Dash, no SQL: the
service runs the queries, components/explore*.py draw the results.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis import comparability as cmp
from analysis.explore_state import ExploreState
from data.codebook import Codebook

MAX_AXIS = 20  # values on each axis of the cross-tab


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
    rows: list[ValueRow]  # in codebook order, "not recorded" last
    with_records: int  # values with synthetic records, shown or not

    @property
    def complete(self) -> bool:
        return len(self.rows) >= self.with_records


def value_rows(
    ctx: Context, state: ExploreState, names: list[str], limit: int | None = None
) -> dict[str, AttributeValues]:
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
        "difference": lambda r: -abs(r.comparison.difference) if r.comparison.difference is not None else missing_last,
        "comparability": lambda r: r.comparison.score if r.comparison.score is not None else missing_last,
    }
    key = keys.get(sort)
    return list(rows) if key is None else sorted(rows, key=key)


def value_counts(ctx: Context, state: ExploreState, name: str) -> dict[str | None, int]:
    """Records of each value of `name` under the selection's other attributes."""
    return ctx.service.navigate_counts(state.filter, [name])[name]


def selection_comparison(ctx: Context, state: ExploreState) -> cmp.Comparison:
    """The whole selection's synthetic count beside its protected count."""
    return ctx.comparator.compare(state.filter.as_dict(), ctx.service.count(state.filter))


def _axis(codebook: Codebook, name: str, totals: dict) -> list:
    """The axis' values: those with records, at most MAX_AXIS (the largest), in codebook order."""
    kept = _most_records(totals, MAX_AXIS)
    return [v for v in list(codebook[name].values) + [None] if v in kept]


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
    cells: dict  # (row value, column value) -> cmp.Comparison
    others: int  # attributes of the other selections

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
        [({**others, a: [va], b: [vb]}, synthetic.get((va, vb), 0)) for va, vb in pairs]
    )
    return CrossTab(a, b, ys, xs, dict(zip(pairs, comparisons)), len(others))
