"""The Overview, Downloads and About pages in Debian's chromium: they load, filters change the
charts and the address, an address restores its view, back and forward work, a download holds
the announced rows, the keyboard reaches every control; no console error, no other host."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from app import create_app
from builders import store_from_rows
from conftest import watch_page
from data.store import Store

pytestmark = pytest.mark.browser

COUNTRIES = ["USA", "UKR", "RUS", "PHL", "NGA", None]


def rows(n: int = 400, seed: int = 11) -> list[dict]:
    rng = np.random.default_rng(seed)
    pick = lambda options, p=None: options[rng.choice(len(options), p=p)]  # noqa: E731
    out = []
    for _ in range(n):
        out.append(
            {
                "yearOfRegistration": pick(["2015", "2016", "2017", "2019", None], [0.2, 0.3, 0.2, 0.25, 0.05]),
                "gender": pick(["Woman", "Man", None], [0.6, 0.3, 0.1]),
                "ageBroad": pick(["09--17", "18--20", "30--38", "48+", None]),
                "citizenship": pick(COUNTRIES),
                "CountryOfExploitation": pick(COUNTRIES, [0.5, 0.1, 0.1, 0.1, 0.05, 0.15]),
                "meansThreats": "1" if rng.random() < 0.3 else None,
                "meansAbusePsyPhySex": "1" if rng.random() < 0.3 else None,
                "isForcedLabour": "1" if rng.random() < 0.4 else None,
                "isSexualExploit": "1" if rng.random() < 0.5 else None,
                "isOtherExploit": "1" if rng.random() < 0.05 else None,
                "typeOfLabourAgriculture": "1" if rng.random() < 0.1 else None,
                "recruiterRelationFamily": "1" if rng.random() < 0.1 else None,
            }
        )
    return out


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return store_from_rows(
        tmp_path_factory.mktemp("browser") / "b.duckdb",
        rows(),
        aggregates={"gender:Woman": 240, "gender:Man": 118},
        record_count=401,
        name="Browser test release",
        is_demonstration=True,
    )


@pytest.fixture(scope="module")
def count(store_path):
    store = Store(store_path)
    yield lambda mapping: store.count(store.filter(mapping))
    store.close()


@pytest.fixture
def site(serve, store_path, page):
    """The app served on loopback, and the page watched for console errors and other hosts."""
    base = serve(create_app(store_path))
    problems = []
    yield base, watch_page(page, base, problems), problems
    assert problems == []


def headline_total(page) -> int:
    return int(page.locator("#overview-headlines .headline-value").first.inner_text().replace(",", ""))


def wait_total(page, expected: int) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('#overview-headlines .headline-value');"
        " return e && e.textContent.replace(/,/g, '') === String(n); }",
        arg=expected,
    )


def choose(page, label: str, option: str) -> None:
    page.locator(f'.filter:has(.filter-label:text-is("{label}")) button.dash-dropdown').click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_every_page_loads_with_local_map_geometry(site):
    base, page, problems = site
    geometry = []
    page.on("request", lambda r: geometry.append(r.url) if "topojson" in r.url else None)
    page.goto(base + "/")
    page.wait_for_selector(".choroplethlocation", state="attached")
    assert set(geometry) == {base + "/assets/topojson/world_110m.json"}
    assert page.locator(".chart-card").count() >= 8
    assert page.locator(".chart-card .main-svg").count() >= 8
    for path, heading in [("/downloads", "Downloads"), ("/about", "About the data")]:
        page.goto(base + path)
        assert page.locator("h1").inner_text() == heading
    page.get_by_role("link", name="Overview", exact=True).click()
    page.wait_for_selector("#overview-headlines")
    assert page.locator("h1").inner_text() == "Overview"


def test_a_filter_changes_every_chart_and_the_address(site, count):
    base, page, _ = site
    page.goto(base + "/")
    wait_total(page, count({}))
    before = page.locator(".chart-summary").all_inner_texts()
    choose(page, "Gender", "Woman")
    page.wait_for_url(re.compile(r"\?gender=Woman$"))
    wait_total(page, count({"gender": ["Woman"]}))
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading]')")
    after = page.locator(".chart-summary").all_inner_texts()
    assert sum(a != b for a, b in zip(before, after)) >= len(before) - 1
    # the navigation carries the filter to the other pages
    nav = page.locator(".main-nav")
    assert nav.get_by_role("link", name="Downloads").get_attribute("href") == "/downloads?gender=Woman"


def test_an_address_restores_its_view_and_history_works(site, count):
    base, page, _ = site
    page.goto(base + "/?gender=Man&ageBroad=48%2B")
    wait_total(page, count({"gender": ["Man"], "ageBroad": ["48+"]}))
    page.locator('.filter:has(.filter-label:text-is("Gender")) .dash-dropdown-value', has_text="Man").wait_for()
    page.locator(
        '.filter:has(.filter-label:text-is("Age group")) .dash-dropdown-value', has_text="48 and over"
    ).wait_for()
    page.get_by_role("link", name="Clear all filters").click()
    wait_total(page, count({}))
    page.go_back()
    wait_total(page, count({"gender": ["Man"], "ageBroad": ["48+"]}))
    assert page.url.endswith("/?gender=Man&ageBroad=48%2B")
    page.go_forward()
    wait_total(page, count({}))


def test_an_invalid_value_is_dropped_with_a_notice(site, count):
    base, page, _ = site
    page.goto(base + "/?gender=Martian&nope=1&gender=Woman")
    notice = page.locator("#url-notice")
    notice.get_by_text("Martian").wait_for()
    assert "nope" in notice.inner_text()
    wait_total(page, count({"gender": ["Woman"]}))
    page.goto(base + "/about")
    assert page.locator("#url-notice").inner_text() == ""


def test_a_download_holds_the_announced_rows(site, count):
    base, page, _ = site
    page.goto(base + "/downloads?gender=Woman&isForcedLabour=1")
    announced = int(page.locator("#download-count").get_attribute("data-count"))
    assert announced == count({"gender": ["Woman"], "isForcedLabour": ["1"]}) > 0
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^CSV \(")).click()
    download = info.value
    assert download.suggested_filename == "browser-test-release-demonstration-records-filtered.csv"
    records = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert len(records) == announced
    assert {r["gender"] for r in records} == {"Woman"}
    # fewer columns: the links follow the choice
    page.get_by_text("Choose columns").click()
    page.get_by_label("Age group (ageBroad)").uncheck()
    page.wait_for_function("() => document.querySelector('.download-count').textContent.includes('11 of 12')")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^CSV \(")).click()
    header = open(info.value.path(), encoding="utf-8").readline().strip().split(",")
    assert "ageBroad" not in header and len(header) == 11


def reached_by_tab(page, presses: int) -> None:
    page.locator("body").focus()
    for _ in range(presses):
        page.keyboard.press("Tab")
        page.evaluate("() => document.activeElement && document.activeElement.setAttribute('data-kb', '1')")


def unreached(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(
        selector,
        "els => els.filter(e => !e.closest('[data-kb]') && "
        "!e.querySelector('[data-kb]')).map(e => e.outerHTML.slice(0, 120))",
    )


def test_the_keyboard_reaches_and_works_every_control(site, count):
    base, page, _ = site
    page.goto(base + "/")
    wait_total(page, count({}))
    page.wait_for_selector(".modebar-btn")
    reached_by_tab(page, 90)
    for selector in [".main-nav a", ".filters-reset", ".filter", ".chart-card summary", ".chart-card .modebar-btn"]:
        assert page.locator(selector).count() > 0
        assert unreached(page, selector) == [], selector
    # operate a filter with the keyboard alone
    page.locator('.filter:has(.filter-label:text-is("Gender")) button.dash-dropdown').focus()
    page.keyboard.press("Enter")
    focused = "c => document.activeElement && document.activeElement.classList.contains(c)"
    page.wait_for_function(focused, arg="dash-dropdown-search")
    page.keyboard.press("ArrowDown")  # to the first option, Man
    page.wait_for_function(focused, arg="dash-options-list-option-checkbox")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_total(page, count({"gender": ["Man"]}))
    page.locator(".filter-years [role=slider]").first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # the slider commits a keyboard move when it loses focus
    wait_total(page, count({"gender": ["Man"], "yearOfRegistration": ["2016", "2017", "2019"]}))

    page.goto(base + "/downloads")
    page.wait_for_selector("#download-count")
    page.locator(".download-columns summary").focus()
    page.keyboard.press("Enter")
    reached_by_tab(page, 70)
    for selector in [".main-nav a", ".filter", ".download-link", ".download-columns summary", ".column-list input"]:
        assert unreached(page, selector) == [], selector
