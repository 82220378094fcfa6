"""The Explore page in Debian's chromium: three filters chosen with the keyboard and the mouse,
the comparability panel read, the address opened in a fresh page shows the same panel; chips
remove filters, back and forward walk through them, a bad address gets a notice; no console
error and no request to another host."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from app import create_app
from builders import store_from_rows
from conftest import watch_page
from data.aggregates import LengthParameters
from data.store import Store

pytestmark = pytest.mark.browser


def records(n: int = 600, seed: int = 4) -> list[dict]:
    rng = np.random.default_rng(seed)
    pick = lambda options, p=None: options[rng.choice(len(options), p=p)]  # noqa: E731
    return [
        {
            "gender": pick(["Woman", "Man", None], [0.6, 0.3, 0.1]),
            "ageBroad": pick(["09--17", "18--20", "30--38", None]),
            "citizenship": pick(["USA", "UKR", "PHL", None]),
            "isForcedLabour": "1" if rng.random() < 0.4 else None,
            "isSexualExploit": "1" if rng.random() < 0.5 else None,
        }
        for _ in range(n)
    ]


def protected_counts(rows: list[dict]) -> dict[str, int]:
    """Counts of every combination up to length 3, a little off (the noise), the rare ones left out."""
    counts: dict[str, int] = {}
    for row in rows:
        items = sorted(f"{k}:{v}" for k, v in row.items() if v is not None)
        for k in (1, 2, 3):
            for combo in combinations(items, k):
                key = ";".join(combo)
                counts[key] = counts.get(key, 0) + 1
    return {
        key: n + (1 if i % 3 == 0 else -1 if i % 3 == 1 else 0)
        for i, (key, n) in enumerate(sorted(counts.items()))
        if n >= 4
    }


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    rows = records()
    return store_from_rows(
        tmp_path_factory.mktemp("explore-browser") / "e.duckdb",
        rows,
        aggregates=protected_counts(rows),
        record_count=603,
        parameters={"epsilon_n": 0.06},
        lengths=[LengthParameters(k, 1.0, 4, 2.0, 3.0) for k in (1, 2, 3)],
        name="Explore test release",
    )


@pytest.fixture
def site(serve, store_path, page):
    base = serve(create_app(store_path))
    problems: list[str] = []

    def watch(p):
        return watch_page(p, base, problems)

    yield base, watch(page), watch, problems
    assert problems == []


def control(page, name: str):
    return page.locator(f'button[id*=\'"name":"{name}"\']')


def pick_attribute(page, label: str) -> None:
    """With the keyboard alone: focus the attribute finder and type the label, take the only match.
    Typing on the closed finder opens it with the letters in its search box, also once a value is
    chosen (opening it with Enter then focuses the chosen option, as a listbox does)."""
    control(page, "attribute").focus()
    page.keyboard.type(label[0])
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.classList.contains('dash-dropdown-search')"
    )
    page.keyboard.type(label[1:])
    search = page.locator(".dash-dropdown-content[data-state=open] .dash-dropdown-search")
    assert search.input_value() == label
    page.wait_for_function(
        "() => document.querySelectorAll('.dash-dropdown-content[data-state=open] [role=option]').length === 1"
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function(
        'l => { const b = document.querySelector(`button[id*=\'"name":"values"\']`);'
        ' const a = document.querySelector(`button[id*=\'"name":"attribute"\']`);'
        " return a.textContent.includes(l) && b && !b.disabled && !b.dataset.dashIsLoading; }",
        arg=label,
    )


def pick_values(page, *labels: str) -> None:
    control(page, "values").click()
    for label in labels:
        page.locator(".dash-dropdown-content[data-state=open]").get_by_role("option", name=label).first.click()
    page.keyboard.press("Escape")
    page.locator(".dash-dropdown-content[data-state=open]").wait_for(state="detached")


def panel_text(page) -> str:
    return page.locator(".cmp-panel .cmp-figures").inner_text()


def wait_for_address(page, fragment: str) -> None:
    page.wait_for_function("f => decodeURIComponent(location.search).includes(f)", arg=fragment)


def wait_for_synthetic(page, n: int) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('.cmp-figures .headline-value');"
        " return e && e.textContent.replace(/,/g, '') === String(n); }",
        arg=n,
    )


def test_three_filters_then_the_same_panel_from_the_address(site, store_path, browser):
    base, page, watch, _ = site
    store = Store(store_path)
    count = lambda mapping: store.count(store.filter(mapping))  # noqa: E731
    page.goto(base + "/explore")
    wait_for_synthetic(page, 600)

    pick_attribute(page, "Gender")
    pick_values(page, "Woman")
    wait_for_address(page, "gender=Woman")
    pick_attribute(page, "Age group")
    pick_values(page, "9–17", "18–20")
    wait_for_address(page, "ageBroad=18--20")
    pick_attribute(page, "Forced labour")
    pick_values(page, "Yes")
    wait_for_address(page, "isForcedLabour=1")
    expected = count({"gender": ["Woman"], "ageBroad": ["09--17", "18--20"], "isForcedLabour": ["1"]})
    wait_for_synthetic(page, expected)

    chips = page.locator(".chips").inner_text()
    for word in ("Gender", "Woman", "Age group", "9–17", "18–20", "Forced labour", "Yes"):
        assert word in chips
    figures = panel_text(page)
    assert "protected count" in figures and "comparability" in figures and "95 % noise interval" in figures
    verdict = page.locator(".cmp-verdict").inner_text()
    assert verdict
    address = page.url

    fresh = watch(browser.new_page())
    fresh.goto(address)
    wait_for_synthetic(fresh, expected)
    assert panel_text(fresh) == figures
    assert fresh.locator(".cmp-verdict").inner_text() == verdict
    assert fresh.locator(".chips").inner_text() == chips
    fresh.close()
    store.close()


def test_chips_remove_filters_and_back_and_forward_walk_through_them(site, store_path):
    base, page, _, _ = site
    store = Store(store_path)
    page.goto(base + "/explore?gender=Woman&citizenship=USA&_view=gender")
    both = store.count(store.filter({"gender": ["Woman"], "citizenship": ["USA"]}))
    usa = store.count(store.filter({"citizenship": ["USA"]}))
    wait_for_synthetic(page, both)

    page.get_by_role("link", name="Remove Gender: Woman").focus()  # a chip is removed with the keyboard
    page.keyboard.press("Enter")
    wait_for_synthetic(page, usa)
    assert "gender=Woman" not in page.url and "_view=gender" in page.url
    page.go_back()
    wait_for_synthetic(page, both)
    page.go_forward()
    wait_for_synthetic(page, usa)
    page.get_by_role("link", name="Clear all filters").click()
    wait_for_synthetic(page, 600)
    store.close()


def test_a_bad_address_is_named_in_a_notice(site):
    base, page, _, _ = site
    page.goto(base + "/explore?gender=Robot&_view=nothing")
    notice = page.locator("#explore-notice")
    notice.get_by_text("Robot").wait_for()
    assert "not a value of Gender" in notice.inner_text()
    wait_for_synthetic(page, 600)
