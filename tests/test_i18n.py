"""The dashboard in English, French, Spanish and Arabic: the catalogues are complete and compile,
plural forms, numbers by locale, the language chosen per request (address, cookie,
Accept-Language, the callback body), the codebook in the reader's language, downloads unchanged."""

from __future__ import annotations

import json
import re

import pytest

import i18n
from analysis.address import LANGUAGE_KEY, decode, encode, with_language
from builders import store_from_rows
from data.store import Store
from i18n import catalog
from i18n.numbers import format_count, format_percent, plotly_separators
from ops_support import DashClient, routing_body

TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
ROWS = [
    {"gender": "Woman", "citizenship": "UKR", "isForcedLabour": "1"},
    {"gender": "Man", "citizenship": "PHL"},
    {"gender": "Woman", "citizenship": "UKR"},
] * 4


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return store_from_rows(
        tmp_path_factory.mktemp("i18n") / "s.duckdb",
        ROWS,
        aggregates={"gender:Woman": 7},
        record_count=12,
        name="Language test release",
    )


@pytest.fixture(scope="module")
def app(store_path):
    from app import create_app

    return create_app(store_path)


# --- the catalogues ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extracted():
    return catalog.extract()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalogue_is_complete_with_no_fuzzy_or_missing_entry(language, extracted):
    assert catalog.problems(language, extracted) == []
    assert len(catalog.read(language)) >= len(extracted)


def test_extraction_finds_the_page_texts_and_the_built_in_codebook(extracted):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted}
    assert {"Overview", "Data comparability", "Show as table", "Gender", "Woman", "Forced labour"} <= ids
    assert "%(num)s record" in ids  # a plural entry


def test_a_catalogue_missing_an_entry_is_reported(monkeypatch, extracted):
    real = catalog.read

    def without_overview(language):
        cat = real(language)
        cat.delete("Overview")
        return cat

    monkeypatch.setattr(catalog, "read", without_overview)
    assert "missing: 'Overview'" in catalog.problems("fr", extracted)


def test_catalogues_compile_to_what_the_app_reads(tmp_path, monkeypatch):
    catalog.compile_all()
    for language in TRANSLATED:
        assert i18n.translations(language).ugettext("Overview") != "Overview"
    # Without a compiled file (a fresh clone run without make) the .po is compiled in memory.
    po, _mo = i18n.catalog_paths("fr")
    monkeypatch.setattr(i18n, "catalog_paths", lambda language: (po, str(tmp_path / "absent.mo")))
    i18n.translations.cache_clear()
    try:
        assert i18n.translations("fr").ugettext("Overview") == "Vue d’ensemble"
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()


# --- plural forms and numbers -------------------------------------------------------------------


def test_arabic_has_six_plural_forms_and_french_counts_zero_as_one():
    with i18n.language("ar"):
        forms = {n: i18n.ngettext("%(num)s record", "%(num)s records", n) for n in (0, 1, 2, 5, 11, 100)}
    assert len(set(forms.values())) == 6
    assert forms[1] == "سجل واحد" and forms[2] == "سجلان"
    with i18n.language("fr"):
        assert i18n.ngettext("%(num)s record", "%(num)s records", 0) == "0 enregistrement"
        assert i18n.ngettext("%(num)s record", "%(num)s records", 2) == "2 enregistrements"
    assert i18n.ngettext("%(num)s record", "%(num)s records", 1) == "1 record"


@pytest.mark.parametrize(
    "language, count, percent, separators",
    [
        ("en", "1,234,567", "12.5 %", ".,"),
        ("fr", "1\u202f234\u202f567", "12,5\u00a0%", ",\u202f"),
        ("es", "1.234.567", "12,5\u00a0%", ",."),
        ("ar", "1,234,567", "12.5%", ".,"),
    ],
)
def test_numbers_follow_the_locale(language, count, percent, separators):
    with i18n.language(language):
        assert format_count(1234567) == count
        assert format_percent(12.5) == percent
        assert plotly_separators() == separators
        assert i18n.ngettext("%(num)s record", "%(num)s records", 1234567).startswith(count)


def test_the_language_is_per_context_and_unknown_codes_fall_back_to_english():
    assert i18n.current() == "en"
    with i18n.language("es-MX"):
        assert i18n.current() == "es" and i18n.gettext("Overview") == "Resumen"
        with i18n.language("xx"):
            assert i18n.current() == "en"
        assert i18n.current() == "es"
    assert i18n.current() == "en" and not i18n.is_rtl()
    with i18n.language("ar"):
        assert i18n.is_rtl()


# --- the address ------------------------------------------------------------------------------


def test_the_lang_key_round_trips_through_the_address(store_path):
    store = Store(store_path)
    try:
        flt = store.filter({"gender": ["Woman"]})
        assert encode(flt) == "?gender=Woman"  # English: the default, left out
        with i18n.language("fr"):
            query = encode(flt)
        assert query == "?gender=Woman&lang=fr"
        address = decode(query, store.release_codebook)
        assert address.filter == flt and address.notices == ()  # lang is no filter
        assert with_language(query, "ar") == "?gender=Woman&lang=ar"
        assert with_language("", "en") == f"?{LANGUAGE_KEY}=en"  # English named, to override a cookie
    finally:
        store.close()


# --- the codebook in the reader's language ----------------------------------------------------


def test_the_codebook_reads_in_the_language_and_keeps_its_values(store_path):
    store = Store(store_path)
    try:
        english = store.codebook
        with i18n.language("fr"):
            french = store.codebook
            assert french["gender"].label == "Genre"
            assert french["gender"].label_of("Woman") == "Femme"
            assert french["gender"].label_of(None) == "non renseigné"
            assert french["citizenship"].label_of("UKR") == "Ukraine"
        with i18n.language("ar"):
            assert store.codebook["citizenship"].label_of("PHL") == "الفلبين"
        assert [a.values for a in french] == [a.values for a in english] and french.names == english.names
        assert english["gender"].label == "Gender" and store.codebook is store.release_codebook
    finally:
        store.close()


# --- the language of a request ----------------------------------------------------------------


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.get_data(as_text=True)).group(0)


def test_the_page_language_comes_from_the_address_then_the_cookie_then_the_browser(app):
    client = app.server.test_client()
    assert html_tag(client.get("/")) == '<html lang="en" dir="ltr">'
    assert (
        html_tag(client.get("/", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}))
        == '<html lang="es" dir="ltr">'
    )
    spanish = client.get("/explore?lang=es")
    assert html_tag(spanish) == '<html lang="es" dir="ltr">' and "Actualizando" in spanish.get_data(as_text=True)
    assert html_tag(client.get("/explore?lang=ar")) == '<html lang="ar" dir="rtl">'
    # the choice is remembered for the layout Dash fetches next, which carries no address
    assert client.get_cookie("gsd_lang").value == "ar"
    layout = json.dumps(client.get("/_dash-layout").get_json(), ensure_ascii=False)
    assert "استكشاف" in layout and "العربية" in layout
    assert html_tag(client.get("/", headers={"Accept-Language": "fr"})) == '<html lang="ar" dir="rtl">'
    assert html_tag(client.get("/?lang=xx", headers={"Accept-Language": "fr"})) == '<html lang="ar" dir="rtl">'


def test_a_callback_answers_in_the_language_of_the_page_that_asked(app):
    client = DashClient(test_client=app.server.test_client())
    client.open("/")
    body = routing_body(app, "/about", "")
    answers = {}
    for language in i18n.LANGUAGES:
        response = client.post_callback({**body, LANGUAGE_KEY: language})
        assert response.status_code == 200
        answers[language] = json.dumps(response.get_json(), ensure_ascii=False)
    assert "About the data" in answers["en"] and "À propos des données" in answers["fr"]
    assert "Acerca de los datos" in answers["es"] and "حول البيانات" in answers["ar"]
    # a body without a language (an old page, a script) gets the cookie's or English
    assert "About the data" in json.dumps(client.post_callback(body).get_json())


def test_downloads_stay_the_release_s_in_every_language(app):
    client = app.server.test_client()
    english = client.get("/download/codebook.csv").get_data()
    french = client.get("/download/codebook.csv?lang=fr", headers={"Accept-Language": "fr"})
    assert french.status_code == 200 and french.get_data() == english
    records = client.get("/download/records.csv?gender=Woman&lang=ar", headers={"Accept-Language": "ar"})
    assert records.status_code == 200
    assert records.get_data() == client.get("/download/records.csv?gender=Woman").get_data()
    assert records.get_data(as_text=True).splitlines()[0] == '"gender","citizenship","isForcedLabour"'
