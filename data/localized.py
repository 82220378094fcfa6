"""The codebook in the reader's language: attribute labels, descriptions and value labels as the
release's codebook gives them in that language (`gsd:translations`), else through the gettext
catalogue (the built-in CTDC texts are in it: `python -m i18n extract` reads
data/codebooks/*.json), country names from CLDR (Babel) by their ISO code. A text neither knows
stays as the release wrote it. Values and names never change, so
filters, addresses and downloads are the same in every language.
"""

from __future__ import annotations

from dataclasses import replace

from babel.core import get_global

import i18n
from data.codebook import Attribute, Codebook
from i18n import gettext


def country_label(code: str, label: str) -> str:
    """CLDR's name of ISO 3166-1 alpha-3 `code` in the current language, else `label`."""
    alpha2 = (get_global("territory_aliases").get(code) or [None])[0]
    return i18n.locale().territories.get(alpha2) or gettext(label)


def _attribute(a: Attribute, language: str) -> Attribute:
    """The release's own texts in `language` first, then the catalogue's, then the release's."""
    own = {value: (label, description) for code, value, label, description in a.translations if code == language}
    label, description = own.get(None) or (gettext(a.label), gettext(a.description) if a.description else "")
    labels = tuple(
        own[v][0] if v in own else country_label(v, lab) if a.kind == "country" else gettext(lab)
        for v, lab in zip(a.values, a.value_labels)
    )
    return replace(a, label=label, description=description, group_label=gettext(a.group_label), value_labels=labels)


def localized(codebook: Codebook, kept: dict) -> Codebook:
    """`codebook` in the current language, made once per language and kept in `kept`."""
    language = i18n.current()
    if language == i18n.DEFAULT:
        return codebook
    if language not in kept:
        kept[language] = Codebook(tuple(_attribute(a, language) for a in codebook))
    return kept[language]
