"""The reader's language: gettext catalogues (translations/<lang>/LC_MESSAGES/messages.po, read
through Babel) and the language of the current request.

A leaf below every other package: it imports nothing of the project, so `data/` (the codebook's
built-in labels), `analysis/` (address notices, verdicts) and the dashboard translate with the
same calls. The dashboard sets the language once per request (`activate`, serving/i18n.py);
code outside a request (the engine, tests) reads English, the default.

Texts defined at import time are marked with `N_` (extracted, left as is) and translated with
`gettext` where they are shown.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
from functools import cache

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT = "en"
LANGUAGES = ("en", "fr", "es", "ar")
# Each language named in itself, as the switcher shows it.
ENDONYMS = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}
DOMAIN = "messages"
TRANSLATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "translations")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("gsd_language", default=DEFAULT)


def catalog_paths(language: str) -> tuple[str, str]:
    """(.po, .mo) of a language's catalogue."""
    base = os.path.join(TRANSLATIONS_DIR, language, "LC_MESSAGES", DOMAIN)
    return base + ".po", base + ".mo"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` (`make` compiles the .mo files; one missing or older
    than its .po, as in a fresh clone run without make, is compiled in memory)."""
    if language == DEFAULT or language not in LANGUAGES:
        return NullTranslations()
    po, mo = catalog_paths(language)
    if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
        with open(mo, "rb") as fp:
            return Translations(fp, domain=DOMAIN)
    with open(po, "rb") as fp:
        catalog = read_po(fp, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def supported(language) -> str | None:
    """`language` if it is one of LANGUAGES (also as a region variant, 'fr-CA'), else None."""
    if not isinstance(language, str):
        return None
    base = language.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def current() -> str:
    return _current.get()


def activate(language: str) -> contextvars.Token:
    """Makes `language` (one of LANGUAGES) the current one; `deactivate(token)` undoes it."""
    return _current.set(supported(language) or DEFAULT)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def language(code: str):
    """`with language("fr"):` — texts in French inside the block."""
    token = activate(code)
    try:
        yield
    finally:
        deactivate(token)


def locale() -> Locale:
    return _locale(current())


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def is_rtl() -> bool:
    return locale().text_direction == "rtl"


def gettext(message: str, **values) -> str:
    """`message` in the current language, with `%(name)s` placeholders filled from `values`."""
    text = translations(current()).ugettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    """The plural form for `n` in the current language (Arabic has six); `%(num)s` is `n`
    formatted for the language unless `values` gives it."""
    text = translations(current()).ungettext(singular, plural, n)
    values.setdefault("num", format_count(n))
    return text % values


def N_(message: str) -> str:
    """Marks a text for extraction where it is defined; `gettext` translates it where shown."""
    return message


_ = gettext

from i18n.numbers import format_count  # noqa: E402  (numbers imports current() from here)
