"""Every page in French, Spanish and Arabic in Debian's chromium: no English text left (the
rendered text, charts included, against the English catalogue), Arabic right to left and
mirrored, numbers in the locale's marks; the switcher and the address's `lang` key round-trip
through a shared link; the browser's language chosen on a first visit."""

from __future__ import annotations

import re

import pytest

import i18n
from app import create_app
from builders import store_from_rows
from i18n import catalog
from test_browser_dashboard import rows

pytestmark = pytest.mark.browser

PAGES = ["/", "/explore", "/explore?_view=gender", "/explore?_rows=gender&_cols=ageBroad", "/downloads", "/about"]
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")
MIN_FRAGMENT = 14  # shorter pieces of a longer text may be words of any language
# Every piece of text the reader sees: the page's, and the charts' (titles, axes, legends).
TEXT_JS = """() => [document.body.innerText,
  ...Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)].join('\\n')"""
SETTLED_JS = "() => !document.querySelector('[data-dash-is-loading]')"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return store_from_rows(
        tmp_path_factory.mktemp("browser-i18n") / "b.duckdb",
        rows(),
        aggregates={"gender:Woman": 240, "gender:Man": 118},
        record_count=401,
        name="Browser test release",
        is_demonstration=True,
    )


@pytest.fixture
def site(serve, store_path, page):
    base = serve(create_app(store_path))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_default_timeout(20_000)
    yield base, page
    assert errors == []


def english_texts(language: str) -> tuple[set[str], set[str]]:
    """(whole texts, long fragments) of the English catalogue that `language` translates
    differently: none of them may show on a page in that language."""
    whole, fragments = set(), set()
    for message in catalog.read(language):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if not english or english in strings:
                continue
            pieces = [p.strip(" ;:.,()") for p in PLACEHOLDER.split(english)]
            if len(pieces) == 1:
                whole.add(pieces[0])
            fragments.update(p for p in pieces if len(p) >= MIN_FRAGMENT)
    return whole, fragments


def open_settled(page, url: str) -> str:
    page.goto(url)
    page.wait_for_selector("#page-content > *")
    page.wait_for_function(SETTLED_JS)
    page.wait_for_timeout(300)  # the last figures drawn
    page.wait_for_function(SETTLED_JS)
    return page.evaluate(TEXT_JS)


def untranslated(text: str, whole: set[str], fragments: set[str]) -> list[str]:
    lines = {line.strip(" ;:.,()·■") for line in re.split(r"[\n\t]", text)}
    return sorted((lines & whole) | {f for f in fragments if f in text})


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_every_page_is_wholly_translated(site, language):
    base, page = site
    whole, fragments = english_texts(language)
    found = {}
    for path in PAGES:
        url = base + path + ("&" if "?" in path else "?") + "lang=" + language
        left = untranslated(open_settled(page, url), whole, fragments)
        if left:
            found[path] = left
        assert page.evaluate("document.documentElement.lang") == language
    assert found == {}


def figure_layouts(page) -> list[dict]:
    """What plotly drew: the axes as laid out (a reversed x axis runs from high to low)."""
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4")
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => {
        const full = g._fullLayout;
        return {horizontal: !!(g.data && g.data[0] && g.data[0].orientation === 'h'),
                reversed: !!(full.xaxis && full.xaxis.range && full.xaxis.range[0] > full.xaxis.range[1]),
                yside: full.yaxis && full.yaxis.side, separators: full.separators,
                legend: full.legend && full.legend.xanchor};
    })""")


def test_arabic_reads_right_to_left_and_charts_are_mirrored(site):
    base, page = site
    open_settled(page, base + "/?lang=ar")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    brand, switcher = page.locator(".brand").bounding_box(), page.locator(".language-switcher").bounding_box()
    assert brand["x"] > switcher["x"]  # the header starts on the right
    layouts = figure_layouts(page)
    bars = [f for f in layouts if f["horizontal"]]
    assert bars and all(f["reversed"] and f["yside"] == "right" for f in bars)
    assert {f["legend"] for f in layouts if f["legend"]} == {"right"}  # legends drawn start right
    open_settled(page, base + "/?lang=fr")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert not any(f["reversed"] or f["yside"] == "right" for f in figure_layouts(page) if f["horizontal"])


@pytest.mark.parametrize(
    "language, percent, separators",
    [
        ("en", r"\d\.\d %", ".,"),
        ("fr", "\\d,\\d\u00a0%", ",\u202f"),
        ("es", "\\d,\\d\u00a0%", ",."),
        ("ar", r"\d\.\d%", ".,"),
    ],
)
def test_numbers_are_formatted_for_the_language(site, language, percent, separators):
    base, page = site
    text = open_settled(page, base + "/?lang=" + language)
    assert re.search(percent, text)
    assert {f["separators"] for f in figure_layouts(page)} == {separators}
    with i18n.language(language):
        expected = i18n.ngettext("%(num)s synthetic record", "%(num)s synthetic records", 400)
    assert expected in page.locator(".release-facts").inner_text()


def test_the_switcher_and_the_lang_key_round_trip_through_a_shared_address(site, browser):
    base, page = site
    open_settled(page, base + "/?gender=Woman")
    assert page.locator("h1").inner_text() == "Overview"
    page.locator(".language-switcher").get_by_role("link", name="Français").click()
    page.wait_for_url(base + "/?gender=Woman&lang=fr")
    page.wait_for_function(SETTLED_JS)
    assert page.locator("h1").inner_text() == "Vue d’ensemble"
    page.locator(".filter .dash-dropdown-value", has_text="Femme").wait_for()
    page.locator(".main-nav").get_by_role("link", name="Explorer").click()
    page.wait_for_url(re.compile(r"/explore\?gender=Woman&lang=fr$"))
    page.locator("h1", has_text="Explorer").wait_for()
    shared = page.url
    # A browser asking for Spanish: its first visit in Spanish, the shared link in French.
    other = browser.new_context(locale="es-ES")
    try:
        visitor = other.new_page()
        visitor.goto(base + "/about")
        visitor.locator("h1", has_text="Acerca de los datos").wait_for()
        visitor.goto(shared)
        visitor.locator("h1", has_text="Explorer").wait_for()
        assert visitor.evaluate("document.documentElement.lang") == "fr"
        visitor.goto(base + "/about")  # the choice is remembered
        visitor.locator("h1", has_text="À propos des données").wait_for()
        visitor.locator(".language-switcher").get_by_role("link", name="العربية").click()
        visitor.wait_for_url(base + "/about?lang=ar")
        visitor.locator("h1", has_text="حول البيانات").wait_for()
        assert visitor.evaluate("document.documentElement.dir") == "rtl"
        assert visitor.locator(".language-switcher .active").inner_text() == "العربية"
    finally:
        other.close()
