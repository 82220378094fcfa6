"""Component ids, in one place so layouts and callbacks agree."""

# shell
URL = "url"
PAGE = "page-content"
NOTICE = "url-notice"

# chart cards (components/charts.py): pattern-matching ids {"type": CHART_*, "chart": name}
CHART_GRAPH = "chart-graph"
CHART_SUMMARY = "chart-summary"
CHART_TABLE = "chart-table"

# filter panels (components/filters.py): {"type": FILTER, "page": page, "name": control name}
FILTER = "filter"
FILTER_STATE = "filter-state"
NAV_LINK = "nav-link"
LANGUAGE_LINK = "language-link"
OVERVIEW_HEADLINES = "overview-headlines"
DOWNLOAD_COUNT = "download-count"
DOWNLOAD_COLUMNS = "download-columns"
DOWNLOAD_LINKS = "download-links"

# explore (components/explore.py, callbacks/explore.py)
# The page's controls are {"type": EXPLORE_CONTROL, "name": ...} (pattern-matching, so the sync
# callback also runs, harmlessly, while another page is shown); the state store holds the address.
EXPLORE_CONTROL = "explore-control"
EXPLORE_STATE = "explore-state"
EXPLORE_NOTICE = "explore-notice"
EXPLORE_CHIPS = "explore-chips"
EXPLORE_PANEL = "explore-panel"  # the comparability panel
EXPLORE_VIEW_CONTENT = "explore-view-content"
EXPLORE_CROSSTAB = "explore-crosstab"
EXPLORE_CROSSTAB_SHOWN = "explore-crosstab-shown"  # what the cross-tab shows (skips needless redraws)
EXPLORE_FLOWS_SHOWN = "explore-flows-shown"  # the filter the flow cards show (the same)
