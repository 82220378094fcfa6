"""What a visit to the Overview costs on the wire, measured in Debian's chromium: the bytes it
received (compressed bodies and headers, as its network panel counts them) on a first visit with
an empty cache, and on a repeat visit with the cache the first one left (issue #14, item 6)."""

from __future__ import annotations

import pytest

from app import create_app
from ops_support import make_demo_store

pytestmark = pytest.mark.browser

FIRST_VISIT_BUDGET = 2_500_000
REPEAT_VISIT_BUDGET = 300_000


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return make_demo_store(tmp_path_factory.mktemp("transfer") / "store.duckdb", rows=3000, seed=8)


def visit(context, url: str) -> dict[str, int]:
    """Open `url` in a new tab of `context` until every chart is drawn and the network is quiet;
    the bytes received per address."""
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    urls, received = {}, {}
    session.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    session.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto(url)
    page.wait_for_selector(".choroplethlocation", state="attached", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.chart-card .main-svg').length >= 8 &&"
        " !document.querySelector('[data-dash-is-loading]')"
    )
    page.wait_for_load_state("networkidle")
    page.close()
    totals: dict[str, int] = {}
    for request_id, size in received.items():
        address = urls.get(request_id, "?").split("?")[0]
        totals[address] = totals.get(address, 0) + size
    return totals


def test_first_and_repeat_visits_of_the_overview_stay_within_budget(serve, store_path, context):
    base = serve(create_app(store_path))
    first = visit(context, base + "/")
    repeat = visit(context, base + "/")

    plotly = base + "/_dash-component-suites/plotly/package_data/plotly.min.js"
    assert 500_000 < first[plotly] < 2_000_000  # plotly.js was loaded, compressed (4.8 MB plain)
    assert sum(first.values()) <= FIRST_VISIT_BUDGET, sorted(first.items(), key=lambda kv: -kv[1])[:8]
    assert sum(repeat.values()) <= REPEAT_VISIT_BUDGET, sorted(repeat.items(), key=lambda kv: -kv[1])[:8]
    assert repeat.get(plotly, 0) < 2_000  # revalidated, not sent again
    # Only the bundles the page uses: the tables' Markdown never needs code highlighting.
    assert not [u for u in first if "async-highlight" in u]
