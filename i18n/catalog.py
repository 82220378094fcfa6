"""The catalogues' upkeep: extraction of the marked texts (babel.cfg), merging them into each
language's .po file, compilation to .mo, and the check `make test` runs (no missing, fuzzy or
obsolete entry, nothing extracted that a catalogue lacks).

    python -m i18n extract      # translations/messages.pot from the sources
    python -m i18n update       # merge it into every .po (new entries come untranslated)
    python -m i18n compile      # the .mo files the app reads
"""

from __future__ import annotations

import json
import os

from babel.messages.catalog import Catalog
from babel.messages.extract import extract as extract_stream
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from i18n import DEFAULT, DOMAIN, LANGUAGES, TRANSLATIONS_DIR, catalog_paths

ROOT = os.path.dirname(TRANSLATIONS_DIR)
SOURCES = ("analysis", "callbacks", "components", "data", "i18n", "serving")
SOURCE_FILES = ("app.py",)
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
CODEBOOKS = os.path.join(ROOT, "data", "codebooks")  # the built-in codebooks' texts are shown too
TEMPLATE = os.path.join(TRANSLATIONS_DIR, DOMAIN + ".pot")


def extract() -> Catalog:
    """Every marked text of the dashboard's sources, with where it occurs."""
    with open(os.path.join(ROOT, "babel.cfg")) as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    catalog = Catalog(project="GSD Explorer", charset="utf-8")
    found = []
    for folder in SOURCES:
        found += [
            (f"{folder}/{name}", *rest)
            for name, *rest in extract_from_dir(os.path.join(ROOT, folder), method_map, options_map, keywords=KEYWORDS)
        ]
    for name in SOURCE_FILES:
        with open(os.path.join(ROOT, name), "rb") as fp:
            found += [(name, *entry) for entry in extract_stream("python", fp, keywords=KEYWORDS)]
    for where, lineno, message, comments, context in found:
        catalog.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    for text in builtin_texts():
        catalog.add(text, None, [("data/codebooks", 0)])
    return _percent_as_text(catalog)


def _percent_as_text(catalog: Catalog) -> Catalog:
    """Only named placeholders are ever filled (i18n.gettext): a lone "%" (e.g. "90 % or more")
    is text, not a format, whatever Babel's python-format guess says."""
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if not any("%(" in i for i in ids):
            message.flags.discard("python-format")
    return catalog


def builtin_texts() -> list[str]:
    """Titles, descriptions, group titles and category labels of the built-in codebooks."""
    texts: list[str] = []
    for name in sorted(os.listdir(CODEBOOKS)):
        with open(os.path.join(CODEBOOKS, name), encoding="utf-8") as fp:
            descriptor = json.load(fp)
        texts += [g.get("title", "") for g in descriptor.get("gsd:groups", [])]
        for resource in descriptor.get("resources", []):
            for spec in resource.get("schema", {}).get("fields", []):
                texts += [spec.get("title", ""), spec.get("description", "")]
                texts += [c.get("label", "") for c in spec.get("categories") or [] if isinstance(c, dict)]
    return list(dict.fromkeys(t for t in texts if t))


def read(language: str) -> Catalog:
    with open(catalog_paths(language)[0], "rb") as fp:
        return _percent_as_text(read_po(fp, locale=language))


def update() -> None:
    template = extract()
    os.makedirs(TRANSLATIONS_DIR, exist_ok=True)
    with open(TEMPLATE, "wb") as fp:
        write_po(fp, template, omit_header=False, sort_by_file=True)
    for language in LANGUAGES:
        if language == DEFAULT:
            continue
        po = catalog_paths(language)[0]
        catalog = read(language) if os.path.exists(po) else Catalog(locale=language, project="GSD Explorer")
        catalog.update(template, no_fuzzy_matching=True)
        _percent_as_text(catalog)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # the header: the translations are reviewed ones
        os.makedirs(os.path.dirname(po), exist_ok=True)
        with open(po, "wb") as fp:
            write_po(fp, catalog, width=100, sort_by_file=True)


def compile_all() -> None:
    for language in LANGUAGES:
        if language != DEFAULT:
            po, mo = catalog_paths(language)
            with open(mo, "wb") as fp:
                write_mo(fp, read(language))


def problems(language: str, extracted: Catalog | None = None) -> list[str]:
    """What keeps `language`'s catalogue from being complete: untranslated, fuzzy or obsolete
    entries, placeholders that differ from the English, texts extracted but missing."""
    catalog = read(language)
    out = [f"obsolete: {m.id!r}" for m in catalog.obsolete.values()]
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            out.append(f"fuzzy: {message.id!r}")
        if not all(forms) or (message.pluralizable and len(forms) != catalog.num_plurals):
            out.append(f"untranslated: {message.id!r}")
        out += [f"{language} {err}: {message.id!r}" for err in message.check(catalog)]
    if extracted is not None:
        out += [f"missing: {m.id!r}" for m in extracted if m.id and m.id not in catalog]
    return out
