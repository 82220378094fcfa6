"""The Explore page's state, all of it in the address.

Filters use the address's format (analysis/address.py: `?gender=Woman&ageBroad=09--17`, `~` =
not recorded); the page's own parameters are extra keys starting with an underscore, so they cannot
be mistaken for an attribute: `_view` (the attribute of the per-attribute view, `*` for all of
them), `_sort`, and `_rows` / `_cols` (the cross-tab's attributes). Defaults are left out of
the address. Anything not understood is dropped and named in `notices`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from analysis.address import Query, decode, encode
from data.codebook import Codebook
from data.store import Filter
from i18n import N_, _

PATH = "/explore"
ALL_ATTRIBUTES = "*"
VIEW_KEY, SORT_KEY, ROWS_KEY, COLS_KEY = "_view", "_sort", "_rows", "_cols"
PAGE_KEYS = (VIEW_KEY, SORT_KEY, ROWS_KEY, COLS_KEY)

# How the per-attribute view orders its values: key -> label.
SORTS = {  # English; the page shows them through gettext
    "order": N_("Codebook order"),
    "synthetic": N_("Synthetic count, largest first"),
    "protected": N_("Protected count, largest first"),
    "difference": N_("Size of the difference, largest first"),
    "comparability": N_("Comparability, lowest first"),
}
DEFAULT_SORT = "order"


@dataclass(frozen=True)
class ExploreState:
    filter: Filter = field(default_factory=Filter)
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
        return encode(self.filter, extras)

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


def from_search(codebook: Codebook, search: Query) -> ExploreState:
    """The state of an address: a query string, or an already parsed query."""
    address = decode(search, codebook, option_keys=PAGE_KEYS)
    notices = list(address.notices)

    def one(key: str, allowed, message: str):
        value = address.option(key)
        if value is not None and value not in allowed:
            notices.append(_(message, value=value[:40]))
            return None
        return value

    attributes = set(codebook.names)
    view = (
        one(VIEW_KEY, attributes | {ALL_ATTRIBUTES}, N_("Ignored “%(value)s”, which is not an attribute to view."))
        or ALL_ATTRIBUTES
    )
    sort = one(SORT_KEY, SORTS, N_("Ignored “%(value)s”, which is not a way of sorting.")) or DEFAULT_SORT
    rows = one(ROWS_KEY, attributes, N_("Ignored “%(value)s”, which is not an attribute for the cross-tab's rows."))
    cols = one(COLS_KEY, attributes, N_("Ignored “%(value)s”, which is not an attribute for the cross-tab's columns."))
    if rows and rows == cols:
        notices.append(_("The cross-tab needs two different attributes; its columns were left unset."))
        cols = None
    return ExploreState(address.filter, view, sort, rows, cols, tuple(notices))
