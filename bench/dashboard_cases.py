"""The callbacks bench/dashboard.py times: each as a `Case` (its output, how to build its request
for a filter, the queries it runs), and the representative filters they are timed on. Add a
page's cases to CASES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis import explore_counts, filter_controls, overview_plan
from analysis.address import encode
from analysis.explore_state import ALL_ATTRIBUTES, ExploreState
from analysis.flows import flows
from bench.renderer import stringify
from components import charts, explore_views, filters, flow_chart, ids
from components import overview as overview_page
from data.service import DataService
from data.store import Filter, Store

if TYPE_CHECKING:
    from bench.dashboard import Server


# Representative filter changes: none, one value, several values, flags, countries, mixtures.
FILTERS: list[dict] = [
    {},
    {"gender": ["Woman"]},
    {"gender": ["Man"]},
    {"ageBroad": ["0--8", "09--17"]},
    {"ageBroad": [None]},
    {"yearOfRegistration": ["2015", "2016", "2017", "2018", "2019"]},
    {"isForcedLabour": ["1"]},
    {"isSexualExploit": ["1"], "gender": ["Woman"]},
    {"isForcedLabour": [None], "isSexualExploit": [None], "isOtherExploit": [None]},
    {"CountryOfExploitation": ["USA"]},
    {"CountryOfExploitation": ["UKR", "RUS"], "gender": ["Woman"]},
    {"citizenship": ["PHL"], "isForcedLabour": ["1"]},
    {"gender": ["Man"], "yearOfRegistration": ["2016", "2017", "2018"], "CountryOfExploitation": ["RUS"]},
    {"ageBroad": ["18--20", "21--23", "24--26"], "isSexualExploit": ["1"]},
    {"gender": ["Woman"], "ageBroad": ["09--17"], "yearOfRegistration": ["2019"]},
    {"citizenship": [None], "CountryOfExploitation": ["USA"], "gender": ["Woman"]},
]


@dataclass(frozen=True)
class Case:
    """One callback: `output` names it (a piece of its key in app.callback_map); `request`
    builds its POST body for a filter mapping; `queries` runs on a Store what it runs."""

    name: str
    output: str
    request: Callable[[Store, dict], dict]
    queries: Callable[[Store, Filter], None]
    prepare: Callable[[Server], None] | None = None  # once per case, after the cache is cleared


def _wildcard_outputs(part: str, names: list[str], group: str, prop: str) -> list[dict]:
    return [{"id": charts.part_id(part, n, group), "property": prop} for n in names]


def overview_request(store: Store, mapping: dict) -> dict:
    names = [c.name for c in overview_plan.plan(store.codebook).cards()] + flow_chart.card_names(store.codebook)
    group = overview_page.PAGE
    return {
        "outputs": [
            {"id": ids.OVERVIEW_HEADLINES, "property": "children"},
            _wildcard_outputs(ids.CHART_GRAPH, names, group, "figure"),
            _wildcard_outputs(ids.CHART_SUMMARY, names, group, "children"),
            _wildcard_outputs(ids.CHART_TABLE, names, group, "children"),
        ],
        "inputs": [{"id": filters.state_id(group), "property": "data", "value": mapping}],
        "changedPropIds": [_prop(filters.state_id(group), "data")],
        "state": [],
    }


def overview_queries(store: Store, flt: Filter) -> None:
    p = overview_plan.plan(store.codebook)
    service = _direct(store)
    service.grouping_counts(flt, p.sets())
    service.flag_groups_counts(flt, p.group_names())
    flow_queries(store, flt)


def flow_queries(store: Store, flt: Filter) -> None:
    ctx = _explore_context(store)
    for origin, destination in store.codebook.flows():
        flows(ctx, flt, origin, destination)


def sync_request(page: str, path: str) -> Callable[[Store, dict], dict]:
    """A control of the filter panel of `page` (at `path`) changed to show `mapping`."""
    return lambda store, mapping: _sync_body(store, mapping, page, path)


def _sync_body(store: Store, mapping: dict, page: str, path: str) -> dict:
    ctrls = filter_controls.controls(store.codebook)
    values, _ = filter_controls.values_from_mapping(ctrls, mapping)
    control_ids = [filters.control_id(page, c.name) for c in ctrls]
    state = {"id": filters.state_id(page, "mapping"), "property": "data", "value": {}}
    return {
        "outputs": [
            {"id": ids.URL, "property": "search"},
            [{"id": i, "property": "value"} for i in control_ids],
            {"id": ids.NOTICE, "property": "children"},
            [{"id": state["id"], "property": "data"}],
        ],
        "inputs": [
            {"id": ids.URL, "property": "search", "value": ""},
            [{"id": i, "property": "value", "value": values.get(i["name"])} for i in control_ids],
        ],
        "changedPropIds": [_prop(control_ids[0], "value")] if control_ids else [],
        "state": [
            [{"id": i, "property": "id", "value": i} for i in control_ids],
            {"id": ids.URL, "property": "pathname", "value": path},
            [state],
        ],
    }


def downloads_request(store: Store, mapping: dict) -> dict:
    from components import downloads

    state = filters.state_id(downloads.PAGE)
    return {
        "outputs": {"id": ids.DOWNLOAD_LINKS, "property": "children"},
        "inputs": [
            {"id": state, "property": "data", "value": mapping},
            {"id": ids.DOWNLOAD_COLUMNS, "property": "value", "value": store.codebook.names},
        ],
        "changedPropIds": [_prop(state, "data")],
        "state": [],
    }


def page_request(store: Store, mapping: dict) -> dict:
    """The Overview page opened at an address holding `mapping` (layout with its first charts)."""
    return {
        "outputs": [{"id": ids.PAGE, "property": "children"}, {"id": ids.NOTICE, "property": "children"}],
        "inputs": [{"id": ids.URL, "property": "pathname", "value": overview_page.PATH}],
        "changedPropIds": [_prop(ids.URL, "pathname")],
        "state": [{"id": ids.URL, "property": "search", "value": encode(store.filter(mapping))}],
    }


def nav_request(store: Store, mapping: dict) -> dict:
    from components.pages import all_pages

    links = [{"type": ids.NAV_LINK, "path": p.path} for p in all_pages()]
    return {
        "outputs": [
            [{"id": i, "property": "href"} for i in links],
            [{"id": i, "property": "className"} for i in links],
        ],
        "inputs": [
            {"id": ids.URL, "property": "pathname", "value": overview_page.PATH},
            {"id": ids.URL, "property": "search", "value": encode(store.filter(mapping))},
        ],
        "changedPropIds": [_prop(ids.URL, "search")],
        "state": [[{"id": i, "property": "id", "value": i} for i in links]],
    }


def load_in_memory_data(server: Server) -> None:
    """The records' codes and the protected counts are loaded once per process and store (like
    opening the store), not per selection: load them before timing."""
    service = server.app.server.config["GSD_SERVICE"]
    service.navigate_counts(service.filter({}), [])
    service.protected_counts([])


def no_query(store: Store, flt: Filter) -> None:
    """For callbacks that run no query."""


def count_query(store: Store, flt: Filter) -> None:
    store.count(flt)


CASES: list[Case] = [
    Case(
        "page: open the Overview at an address",
        f"..{ids.PAGE}.children...{ids.NOTICE}.children..",
        page_request,
        overview_queries,
        load_in_memory_data,
    ),
    Case(
        "overview: headlines and every chart",
        ids.OVERVIEW_HEADLINES + ".children",
        overview_request,
        overview_queries,
        load_in_memory_data,
    ),
    Case(
        "overview: filter sync (controls -> address)",
        '"page":"overview","type":"filter"}.value',
        sync_request(overview_page.PAGE, overview_page.PATH),
        no_query,
    ),
    Case("navigation: links carry the filters", '"type":"nav-link"}.href', nav_request, no_query),
    Case(
        "downloads: filter sync",
        '"page":"downloads","type":"filter"}.value',
        sync_request("downloads", "/downloads"),
        no_query,
    ),
    Case("downloads: row count and links", ids.DOWNLOAD_LINKS + ".children", downloads_request, count_query),
]


# --- Explore page (components/explore.py, callbacks/explore.py) --------------------------------
#
# Its parts are rebuilt from the page's state store (the address, parsed); each filter of FILTERS
# is timed in the views a researcher uses: the sync that sets the controls from a new address,
# the panel, every attribute's values (small multiples, the default), one attribute with many
# values, and two cross-tabs. Raw = the same data work (queries, in-memory counts, the
# comparability arithmetic) straight on the store, without the cache and without building
# components.


def attribute(preferred: str, rank: int) -> Callable[[Store], str]:
    """`preferred` where the store has it (CTDC's releases), else its attribute with the `rank`-th
    most values (0: the most), so that every view is timed on a release of any schema."""

    def pick(store: Store) -> str:
        if preferred in store.codebook:
            return preferred
        by_size = sorted(store.codebook, key=lambda a: -len(a.values))
        return by_size[min(rank, len(by_size) - 1)].name

    return pick


def _resolved(store: Store, page: dict) -> dict:
    return {k: v(store) if callable(v) else v for k, v in page.items()}


def _explore_data(store: Store, mapping: dict, **page) -> dict:
    page = _resolved(store, page)
    return {"search": encode(store.filter(mapping), {f"_{k}": v for k, v in page.items()}), "notices": []}


def explore_render_request(outputs: list[tuple[str, str]], state: list[tuple[str, object]] = (), **page):
    """A render callback of the Explore page fed the state store for a filter and `page`'s
    parameters (view, sort, rows, cols)."""
    from components.explore import STATE_ID

    def request(store: Store, mapping: dict) -> dict:
        out = [{"id": i, "property": p} for i, p in outputs]
        return {
            "outputs": out if len(out) > 1 else out[0],
            "inputs": [{"id": STATE_ID, "property": "data", "value": _explore_data(store, mapping, **page)}],
            "changedPropIds": [_prop(STATE_ID, "data")],
            "state": [{"id": i, "property": p, "value": None} for i, p in state],
        }

    return request


def explore_flows_request(store: Store, mapping: dict) -> dict:
    """The flow cards of the Explore page (one per origin/destination pair) for a filter."""
    from components.explore import STATE_ID

    names, group = flow_chart.card_names(store.codebook), flow_chart.EXPLORE_GROUP
    parts = ((ids.CHART_GRAPH, "figure"), (ids.CHART_SUMMARY, "children"), (ids.CHART_TABLE, "children"))
    return {
        "outputs": [
            *(_wildcard_outputs(part, names, group, prop) for part, prop in parts),
            {"id": ids.EXPLORE_FLOWS_SHOWN, "property": "data"},
        ],
        "inputs": [{"id": STATE_ID, "property": "data", "value": _explore_data(store, mapping)}],
        "changedPropIds": [_prop(STATE_ID, "data")],
        "state": [{"id": ids.EXPLORE_FLOWS_SHOWN, "property": "data", "value": None}],
    }


def explore_sync_request(store: Store, mapping: dict) -> dict:
    """A new address (a link, back, forward) while the values of Gender are shown."""
    from components.explore import ATTRIBUTE, COLS, ROWS, SORT, STATE_ID, VALUES, VIEW, control_id

    values = {ATTRIBUTE: SYNC_ATTRIBUTE(store), VALUES: [], VIEW: "*", SORT: "order", ROWS: None, COLS: None}
    control_ids = [control_id(n) for n in values]
    return {
        "outputs": [
            {"id": ids.URL, "property": "search"},
            *[[{"id": i, "property": p} for i in control_ids] for p in ("value", "options", "disabled")],
            [{"id": STATE_ID, "property": "data"}],
        ],
        "inputs": [
            {"id": ids.URL, "property": "search", "value": encode(store.filter(mapping))},
            [{"id": i, "property": "value", "value": v} for i, v in zip(control_ids, values.values())],
        ],
        "changedPropIds": [_prop(ids.URL, "search")],
        "state": [
            [{"id": i, "property": "id", "value": i} for i in control_ids],
            [{"id": STATE_ID, "property": "data", "value": {}}],
            {"id": ids.URL, "property": "pathname", "value": "/explore"},
        ],
    }


# Per store, the data service without a cache: the app's query path on a cold cache.
_DIRECT: dict[int, DataService] = {}


def _direct(store: Store) -> DataService:
    if id(store) not in _DIRECT:
        _DIRECT[id(store)] = DataService(store.path)
    return _DIRECT[id(store)]


def _explore_context(store: Store):
    return explore_counts.context(_direct(store))


def explore_panel_queries(store: Store, flt: Filter) -> None:
    _explore_context(store).comparator.compare(flt.as_dict(), store.count(flt))


def explore_values_queries(view):
    def queries(store: Store, flt: Filter) -> None:
        ctx = _explore_context(store)
        if view == ALL_ATTRIBUTES:
            explore_counts.value_rows(ctx, ExploreState(flt), ctx.codebook.names, limit=explore_views.MINI_ROWS)
        else:
            name = view(store)
            explore_counts.value_rows(ctx, ExploreState(flt, view=name), [name])

    return queries


def explore_crosstab_queries(rows, cols):
    def queries(store: Store, flt: Filter) -> None:
        explore_counts.crosstab_data(_explore_context(store), ExploreState(flt, rows=rows(store), cols=cols(store)))

    return queries


def explore_sync_queries(store: Store, flt: Filter) -> None:
    _explore_context(store).service.navigate_counts(flt, [SYNC_ATTRIBUTE(store)])


SYNC_ATTRIBUTE = attribute("gender", 3)
ONE_ATTRIBUTE = attribute("CountryOfExploitation", 0)
SMALL_AXES = attribute("gender", 3), attribute("ageBroad", 2)
LARGE_AXES = attribute("CountryOfExploitation", 0), attribute("yearOfRegistration", 1)


def _explore_cases() -> list[Case]:
    view, crosstab = (
        [(ids.EXPLORE_VIEW_CONTENT, "children")],
        [(ids.EXPLORE_CROSSTAB, "children"), (ids.EXPLORE_CROSSTAB_SHOWN, "data")],
    )
    shown = [(ids.EXPLORE_CROSSTAB_SHOWN, "data")]
    selection = [(ids.EXPLORE_CHIPS, "children"), (ids.EXPLORE_NOTICE, "children"), (ids.EXPLORE_PANEL, "children")]
    return [
        Case(
            "explore: address -> controls (sync)",
            '"type":"explore-control"}.value',
            explore_sync_request,
            explore_sync_queries,
            load_in_memory_data,
        ),
        Case(
            "explore: chips and comparability panel",
            ids.EXPLORE_CHIPS + ".children",
            explore_render_request(selection),
            explore_panel_queries,
            load_in_memory_data,
        ),
        Case(
            "explore: every attribute (small multiples)",
            ids.EXPLORE_VIEW_CONTENT + ".children",
            explore_render_request(view),
            explore_values_queries("*"),
            load_in_memory_data,
        ),
        Case(
            "explore: one attribute (the most values)",
            ids.EXPLORE_VIEW_CONTENT + ".children",
            explore_render_request(view, view=ONE_ATTRIBUTE, sort="difference"),
            explore_values_queries(ONE_ATTRIBUTE),
            load_in_memory_data,
        ),
        Case(
            "explore: small cross-tab (gender x age)",
            ids.EXPLORE_CROSSTAB + ".children",
            explore_render_request(crosstab, shown, rows=SMALL_AXES[0], cols=SMALL_AXES[1]),
            explore_crosstab_queries(*SMALL_AXES),
            load_in_memory_data,
        ),
        Case(
            "explore: flows",
            '"group":"explore-flows","type":"chart-graph"}.figure',
            explore_flows_request,
            flow_queries,
            load_in_memory_data,
        ),
        Case(
            "explore: large cross-tab (country x year)",
            ids.EXPLORE_CROSSTAB + ".children",
            explore_render_request(crosstab, shown, rows=LARGE_AXES[0], cols=LARGE_AXES[1]),
            explore_crosstab_queries(*LARGE_AXES),
            load_in_memory_data,
        ),
    ]


CASES.extend(_explore_cases())


def _prop(component_id, prop: str) -> str:
    return f"{stringify(component_id)}.{prop}"
