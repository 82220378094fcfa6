"""The Explore page's state, all of it in the address.

Filters use components/url_state.py's format (`?gender=Woman&ageBroad=09--17`, `~` = not
recorded); the page's own parameters are extra keys starting with an underscore, so they cannot
be mistaken for an attribute: `_view` (the attribute of the per-attribute view, `*` for all of
them), `_sort`, and `_rows` / `_cols` (the cross-tab's attributes). Defaults are left out of
the address. Anything not understood is dropped and named in `notices`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qs

from components.url_state import encode_filters, parse_filters
from data.codebook import Codebook
from data.store import Filter

PATH = "/explore"
ALL_ATTRIBUTES = "*"
VIEW_KEY, SORT_KEY, ROWS_KEY, COLS_KEY = "_view", "_sort", "_rows", "_cols"
PAGE_KEYS = (VIEW_KEY, SORT_KEY, ROWS_KEY, COLS_KEY)

# How the per-attribute view orders its values: key -> label.
SORTS = {
    "order": "Codebook order",
    "synthetic": "Synthetic count, largest first",
    "protected": "Protected count, largest first",
    "difference": "Size of the difference, largest first",
    "comparability": "Comparability, lowest first",
}
DEFAULT_SORT = "order"


@dataclass(frozen=True)
class ExploreState:
    filter: Filter = Filter()
    view: str = ALL_ATTRIBUTES
    sort: str = DEFAULT_SORT
    rows: str | None = None
    cols: str | None = None
    notices: tuple[str, ...] = ()

    def with_values(self, codebook: Codebook, attribute: str, values) -> ExploreState:
        """The same state with `attribute` restricted to `values` (none: no filter on it)."""
        mapping = self.filter.as_dict()
        mapping.pop(attribute, None)
        if values:
            mapping[attribute] = list(values)
        return replace(self, filter=Filter.build(codebook, mapping), notices=())

    def without_value(self, codebook: Codebook, attribute: str, value: str | None) -> ExploreState:
        return self.with_values(codebook, attribute, [v for v in self.filter.values(attribute) if v != value])

    def cleared(self) -> ExploreState:
        return replace(self, filter=Filter(), notices=())

    def search(self) -> str:
        """The query string ("" or "?...") standing for this state."""
        extras = {}
        if self.view != ALL_ATTRIBUTES:
            extras[VIEW_KEY] = self.view
        if self.sort != DEFAULT_SORT:
            extras[SORT_KEY] = self.sort
        if self.rows:
            extras[ROWS_KEY] = self.rows
        if self.cols:
            extras[COLS_KEY] = self.cols
        return encode_filters(self.filter.as_dict(), extras)

    def href(self) -> str:
        return PATH + self.search()

    def data(self) -> dict:
        """What the page's state store holds: the normalized address and its notices."""
        return {"search": self.search(), "notices": list(self.notices)}


def from_data(codebook: Codebook, data: dict | None) -> ExploreState:
    """The state `ExploreState.data()` stands for (checked again: the store may have changed)."""
    data = data if isinstance(data, dict) else {}  # a request may carry anything here
    search, notices = data.get("search"), data.get("notices")
    state = from_search(codebook, search if isinstance(search, str) else None)
    notices = notices if isinstance(notices, list) else ()
    return replace(state, notices=state.notices + tuple(str(n) for n in notices))


def from_search(codebook: Codebook, search: str | None) -> ExploreState:
    return from_query(codebook, parse_qs((search or "").lstrip("?"), keep_blank_values=False))


def from_query(codebook: Codebook, query: dict[str, list[str]]) -> ExploreState:
    mapping, extras, notices = parse_filters(codebook, query, extra_keys=PAGE_KEYS)

    def one(key: str, allowed, what: str):
        values = extras.get(key) or []
        if values and values[0] in allowed:
            return values[0]
        if values:
            notices.append(f"Ignored “{values[0][:40]}”, which is not {what}.")
        return None

    attributes = set(codebook.names)
    view = one(VIEW_KEY, attributes | {ALL_ATTRIBUTES}, "an attribute to view") or ALL_ATTRIBUTES
    sort = one(SORT_KEY, SORTS, "a way of sorting") or DEFAULT_SORT
    rows = one(ROWS_KEY, attributes, "an attribute for the cross-tab's rows")
    cols = one(COLS_KEY, attributes, "an attribute for the cross-tab's columns")
    if rows and rows == cols:
        notices.append("The cross-tab needs two different attributes; its columns were left unset.")
        cols = None
    return ExploreState(Filter.build(codebook, mapping), view, sort, rows, cols, tuple(notices))
