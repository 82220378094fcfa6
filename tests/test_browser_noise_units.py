"""About the data and the comparability panel in Debian's chromium speak in noise units (#12):
About leads with mean |z| and the share inside the noise interval beside an exact copy's
reference, its charts have text alternatives and tables reached with the keyboard; the panel
reads the difference against the noise first and gives a long selection two bounds."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from analysis import comparability as cmp
from analysis import comparison_text as cmp_words
from app import create_app
from builders import store_from_rows
from conftest import watch_page
from data.aggregates import LengthParameters
from data.schema import PUBLIC_COMPARISON
from data.store import Store
from data.writer import QualityDeviation, QualityRow

pytestmark = pytest.mark.browser

NOISE_SD = 2.0


def records(n: int = 500, seed: int = 7) -> list[dict]:
    """Values common enough that long selections get a lower bound above 0."""
    rng = np.random.default_rng(seed)

    def common(value, other):
        return value if rng.random() < 0.85 else other

    return [
        {
            "gender": common("Woman", rng.choice(["Man", None])),
            "ageBroad": common("18--20", "30--38"),
            "isSexualExploit": common("1", None),
            "citizenship": common("UKR", rng.choice(["USA", None])),
        }
        for _ in range(n)
    ]


def protected_counts(rows: list[dict]) -> dict[str, int]:
    """Counts of every combination up to length 2, a little off (the noise), the rare ones left out."""
    counts: dict[str, int] = {}
    for row in rows:
        items = sorted(f"{k}:{v}" for k, v in row.items() if v is not None)
        for k in (1, 2):
            for combo in combinations(items, k):
                counts[";".join(combo)] = counts.get(";".join(combo), 0) + 1
    return {
        key: n + (2 if i % 3 == 0 else -3 if i % 3 == 1 else 0)
        for i, (key, n) in enumerate(sorted(counts.items()))
        if n >= 5
    }


def row(metric: str, value: float, length: int | None = None, low: int | None = None) -> QualityRow:
    return QualityRow(PUBLIC_COMPARISON, metric, value, length, low)


def quality() -> list[QualityRow]:
    rows = []
    for length, (measured, mean, within, largest) in {
        1: (8, 0.74, 100.0, 1.5),
        2: (20, 1.62, 70.0, 6.5),
        None: (28, 1.37, 78.6, 6.5),
    }.items():
        rows += [
            row("measured_combinations", measured, length),
            row("mean_abs_z", mean, length),
            row("within_noise_95_pct", within, length),
            row("max_abs_z", largest, length),
        ]
    for length, low, mean, within in (
        (1, 10, 0.6, 100.0),
        (1, 100, 0.9, 100.0),
        (2, 10, 1.1, 80.0),
        (2, 100, 2.4, 55.0),
    ):
        rows += [row("mean_abs_z", mean, length, low), row("within_noise_95_pct", within, length, low)]
    rows += [
        row("unlisted_combinations", 9, 2),
        row("unlisted_beyond_noise", 2, 2),
        row("implications", 4),
        row("implications_violated", 1),
        row("implication_breaches", 6),
        row("records_with_unlisted_pct", 1.8),
        row("record_expansion_pct", 0.4),
    ]
    return rows


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    rows = records()
    deviations = [QualityDeviation(PUBLIC_COMPARISON, 1, 2, "ageBroad:18--20;gender:Woman", 300, 287, -6.5)]
    return store_from_rows(
        tmp_path_factory.mktemp("noise-units") / "n.duckdb",
        rows,
        aggregates=protected_counts(rows),
        record_count=502,
        parameters={"epsilon_n": 0.06},
        lengths=[LengthParameters(k, 1.0, 4, NOISE_SD, 3.0) for k in (1, 2)],
        name="Noise units test release",
        quality=quality(),
        deviations=deviations,
    )


@pytest.fixture
def site(serve, store_path, page):
    base = serve(create_app(store_path))
    problems: list[str] = []
    yield base, watch_page(page, base, problems)
    assert problems == []


def test_about_leads_with_the_noise_unit_figures(site):
    base, page = site
    page.goto(base + "/about")
    first = page.locator(".about h2").first
    assert first.inner_text() == "How close the synthetic records are to the protected counts"
    figures = page.locator(".agreement .headlines").inner_text()
    for text in ("1.37", "mean |z| over all lengths", "about 0.80", "78.6 %", "about 95 %", "1 of 4"):
        assert text in figures
    page.locator(".agreement .data-table table").first.wait_for()
    table = page.locator(".agreement .data-table").first.inner_text()
    assert "length 2" in table and "1.62" in table and "exact copy ≈ 0.80" in table
    assert "Age group 18–20 and Gender Woman" in page.locator(".agreement").inner_text()
    # Two charts, each with its sentence and a table opened with the keyboard.
    cards = page.locator(".agreement .chart-card")
    assert cards.count() == 2
    cards.first.locator(".main-svg").first.wait_for()
    assert "against 0.798 for an exact copy" in cards.first.locator(".chart-summary").inner_text()
    summary = cards.first.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert cards.first.locator("details").get_attribute("open") is not None
    assert "exact copy of the true records (theory)" in cards.first.locator(".chart-table").inner_text()
    # The metrics the section shows are not repeated among the other measurements.
    others = page.locator("h2", has_text="Other measurements").locator("..").inner_text()
    assert "Record expansion" in others and "Mean abs z" not in others


def test_the_panel_reads_the_noise_first_and_bounds_a_long_selection(site, store_path):
    base, page = site
    store = Store(store_path)
    comparator = cmp.Comparator.for_store(store)
    short = {"gender": ["Woman"], "ageBroad": ["18--20"]}
    expected = comparator.compare(short, store.count(store.filter(short)))
    page.goto(base + "/explore?gender=Woman&ageBroad=18--20")
    verdict = page.locator(".cmp-verdict")
    verdict.wait_for()
    assert verdict.inner_text() == cmp_words.verdict(expected).text
    assert verdict.inner_text().startswith(("Within the noise", "Beyond the noise"))
    figures = page.locator(".cmp-figures").inner_text()
    assert "difference in noise units" in figures and f"z = {cmp_words.signed_z(expected.z)}" in figures

    long = {"gender": ["Woman"], "ageBroad": ["18--20"], "isSexualExploit": ["1"], "citizenship": ["UKR"]}
    expected = comparator.compare(long, store.count(store.filter(long)))
    assert expected.status == cmp.BEYOND and 0 < expected.lower <= expected.bound
    page.goto(base + "/explore?gender=Woman&ageBroad=18--20&isSexualExploit=1&citizenship=UKR")
    page.get_by_text(f"{expected.lower:,} to {expected.bound:,}").wait_for()
    assert page.locator(".cmp-verdict").inner_text() == cmp_words.verdict(expected).text
    store.close()
