"""The flow chart in Debian's chromium: the Sankey and its table render on the Overview and on the
Explore page and follow the filters (in the address, and changed in the page); no console error, no
other host."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app import create_app
from builders import repeated_rows, store_from_rows
from conftest import watch_page

pytestmark = pytest.mark.browser

ROWS = repeated_rows(
    (30, {"citizenship": "UKR", "CountryOfExploitation": "USA", "gender": "Woman"}),
    (12, {"citizenship": "UKR", "CountryOfExploitation": "USA", "gender": "Man"}),
    (20, {"citizenship": "PHL", "CountryOfExploitation": "RUS", "gender": "Man"}),
    (5, {"citizenship": "PHL", "gender": "Woman"}),
)
AGGREGATES = {
    "citizenship:UKR": 41,
    "citizenship:PHL": 26,
    "CountryOfExploitation:USA": 43,
    "CountryOfExploitation:RUS": 19,
    "gender:Woman": 36,
    "gender:Man": 31,
    "CountryOfExploitation:USA;citizenship:UKR": 40,
}


@pytest.fixture
def site(serve, tmp_path, page):
    path = store_from_rows(tmp_path / "flows.duckdb", ROWS, aggregates=AGGREGATES, name="Flows test release")
    base = serve(create_app(path))
    problems: list[str] = []
    yield base, watch_page(page, base, problems)
    assert problems == []


def flow_card(page, group: str):
    return page.locator(f'section[aria-labelledby="chart-{group}-flows-citizenship-title"]')


def check_card(card, links: int, rows: list[str]) -> None:
    """The Sankey draws `links` bands, and the table (opened) lists `rows` in that order."""
    card.locator(".sankey .sankey-link").first.wait_for()
    assert card.locator(".sankey .sankey-link").count() == links
    card.locator("summary", has_text="Show as table").click()
    table = card.locator(".chart-table table")
    table.wait_for()
    assert [r.inner_text().split("\t")[:3] for r in table.locator("tbody tr").all()] == [
        row.split(" | ") for row in rows
    ]


def test_the_overview_draws_the_flows_and_their_table(site):
    base, page = site
    page.goto(base + "/")
    card = flow_card(page, "overview")
    assert card.locator("h2").inner_text() == "Flows from citizenship to country of exploitation"
    check_card(card, 2, ["Ukraine | United States | 42", "Philippines | Russia | 20"])
    assert "62 synthetic records" in card.locator(".chart-summary").inner_text()
    assert "5 records lack one end" in card.locator(".chart-summary").inner_text()
    assert "40" in card.locator(".chart-table tbody tr").first.inner_text()  # the protected count


def test_explore_draws_the_flows_under_its_filters(site):
    base, page = site
    page.goto(base + "/explore?gender=Man")
    card = flow_card(page, "explore-flows")
    check_card(card, 2, ["Philippines | Russia | 20", "Ukraine | United States | 12"])
    assert "32 synthetic records" in card.locator(".chart-summary").inner_text()
    page.get_by_title("Remove Gender: Man").click()  # the filter changes in the page
    expect(card.locator(".chart-summary")).to_contain_text("62 synthetic records")
    assert card.locator(".chart-table tbody tr").first.inner_text().split("\t")[:3] == [
        "Ukraine",
        "United States",
        "42",
    ]
