"""Releases of several schemas, imported with `synth_engine import-release` as a user would, each
browsed in Debian's chromium: every attribute drawn on the Overview (another party's under its
own heading), the year range's boxes named, Explore working, no CTDC wording where the release
is not CTDC's, no console error, no other host."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import foreign_releases
from analysis.filter_controls import controls
from analysis.overview_plan import plan
from app import create_app
from components import flow_chart
from conftest import watch_page
from data.store import Store

pytestmark = pytest.mark.browser

CTDC_WORDING = re.compile(r"CTDC|Counter Trafficking|Global Synthetic Dataset")
CTDC_PUBLISHER = "Counter Trafficking Data Collaborative (CTDC)"
# name -> (import-release arguments after the input files, whether the release is CTDC's); the
# foreign ones with protected counts, except "perpetrators"
RELEASES = {
    "ctdc": (["--publisher", CTDC_PUBLISHER, "--demonstration"], True),
    "victim_perpetrator": (["--source-url", "https://example.org/releases/1", "--licence", "CC-BY-4.0"], False),
    "perpetrators": (["--title", "Survivors and perpetrators (test)", "--publisher", "Example Lab"], False),
    "regions": ([], False),
}


def import_release(folder, name: str) -> str:
    if name == "ctdc":
        source = str(folder / "ctdc.csv")
        subprocess.run(
            [sys.executable, "-m", "synth_engine", "demo-source", "--out", source, "--rows", "600", "--seed", "4"],
            check=True,
            capture_output=True,
        )
        inputs = ["--microdata", source]
    else:
        paths = foreign_releases.write_release(folder, name, rows=400, seed=2, with_aggregates=name != "perpetrators")
        inputs = [arg for key, path in paths.items() for arg in (f"--{key}", path)]
    out = str(folder / f"{name}.duckdb")
    subprocess.run(
        [sys.executable, "-m", "synth_engine", "import-release", *inputs, "--out", out, *RELEASES[name][0]],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("releases")
    return {name: import_release(folder, name) for name in RELEASES}


@pytest.fixture
def browse(serve, page, stores):
    """browse(name) -> (base URL, page) for the release `name`; no problem may be seen."""
    problems: list[str] = []

    def start(name: str):
        base = serve(create_app(stores[name]))
        return base, watch_page(page, base, problems)

    yield start
    assert problems == []


@pytest.mark.parametrize("name", list(RELEASES))
def test_every_attribute_is_drawn(browse, stores, name):
    base, page = browse(name)
    store = Store(stores[name])
    p = plan(store.codebook)
    assert p.attributes() == set(store.codebook.names)
    page.goto(base + "/")
    page.wait_for_selector("#overview-headlines .headline-value")
    cards = p.cards()
    page.wait_for_function("n => document.querySelectorAll('.chart-card .main-svg').length >= n", arg=len(cards))
    flows = flow_chart.card_names(store.codebook)  # the flows close the subject's cards
    assert page.locator(".chart-card").count() == len(cards) + len(flows)
    for card in cards:
        section = page.locator(f'.chart-card:has(.chart-title:text-is("{card.title}"))')
        assert section.locator(".chart-summary").inner_text().strip(), card.name
        assert section.locator(".main-svg").count() > 0, card.name
    parties = [h.strip() for h in page.locator(".party-title").all_inner_texts()]
    assert parties == (["Perpetrators"] if name in ("perpetrators", "victim_perpetrator") else [])
    for control in controls(store.codebook):  # every filter's parts are named after it
        if control.kind == "years":
            for end in ("from", "to"):
                assert page.get_by_role("spinbutton", name=f"{control.label}, {end}").count() == 1
        else:
            assert page.get_by_role("button", name=re.compile("^" + re.escape(control.label))).count() == 1
    store.close()


@pytest.mark.parametrize("name", list(RELEASES))
def test_ctdc_is_named_only_by_its_release(browse, name):
    base, page = browse(name)
    is_ctdc = RELEASES[name][1]
    for path, ready in (
        ("/", "#overview-headlines .headline-value"),
        ("/explore", "h1"),
        ("/downloads", "#download-count"),
        ("/about", "h1"),
    ):
        page.goto(base + path)
        page.wait_for_selector(ready)
        shown = page.locator("body").inner_text()
        assert bool(CTDC_WORDING.search(shown)) == is_ctdc, path
    footer = page.locator("footer.site-footer").inner_text()
    assert (CTDC_PUBLISHER in footer) == is_ctdc


def test_explore_choices_are_named_after_their_labels(browse):
    base, page = browse("regions")
    page.goto(base + "/explore")
    page.wait_for_selector(".explore-control button.dash-dropdown")
    labels = [t.strip() for t in page.locator(".explore-control > .filter-label").all_inner_texts()]
    assert labels
    for label in labels:
        assert page.get_by_role("button", name=re.compile("^" + re.escape(label) + " ")).count() >= 1, label
