"""The address: the one codec between a query string and what it stands for — a filter, the
page's own options, and notices for what was left out.

Each attribute's name is a query key and each chosen value one occurrence of it, e.g.
`?gender=Woman&ageBroad=09--17&ageBroad=18--20`; `~` stands for "not recorded". A page's own
parameters (its options) are further keys the page names, and `lang` the page's language (read
by the serving layer; `encode` repeats it, so a shared link keeps it). Pages decode leniently: anything that
does not fit the store's codebook is dropped and named in a notice. The download route decodes
strictly: the first problem raises `AddressError` with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, parse_qsl, urlencode

import i18n
from data.codebook import Codebook
from data.store import Filter
from i18n import _

NOT_RECORDED_TOKEN = "~"
LANGUAGE_KEY = "lang"  # the reader's language (i18n.LANGUAGES), kept by every link
MAX_VALUES_PER_KEY = 500
MAX_PARAMETERS = 2000  # strict mode: keys and values in one request

Query = str | Mapping[str, Sequence[str]] | None


class AddressError(ValueError):
    """A query string strict decoding refuses; its message is a one-line reason."""


@dataclass(frozen=True)
class Address:
    filter: Filter = field(default_factory=Filter)
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # the page's own keys
    notices: tuple[str, ...] = ()

    def option(self, key: str) -> str | None:
        """The first value of option `key`, or None."""
        values = self.options.get(key) or ()
        return values[0] if values else None


def normal_path(path: str | None) -> str:
    """A page's path without a trailing slash ("/" for the root)."""
    return (path or "/").rstrip("/") or "/"


def _pairs(query: Query) -> dict[str, list[str]]:
    """Key -> values of a query string ("?..." or not), or of an already parsed query. Anything
    else (a browser's callback may send any JSON) is an empty query."""
    if isinstance(query, str):
        return parse_qs(query.lstrip("?"), keep_blank_values=False)
    if isinstance(query, Mapping):
        return {key: list(values) for key, values in query.items()}
    return {}


class _Problems:
    """Collects notices (lenient) or raises the first error (strict)."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.notices: list[str] = []

    def add(self, notice: str, error: str) -> None:
        if self.strict:
            raise AddressError(error)
        self.notices.append(notice)


def decode(
    query: Query,
    codebook: Codebook,
    *,
    option_keys: Sequence[str] = (),
    attributes: Sequence[str] | None = None,
    strict: bool = False,
) -> Address:
    """The address a query stands for. `option_keys` are the page's own parameters (kept as
    given, at most MAX_VALUES_PER_KEY each); `attributes`, when set, limits the filter to the
    attributes the page offers (the others are named as belonging elsewhere)."""
    pairs = _pairs(query)
    if strict and sum(len(values) for values in pairs.values()) > MAX_PARAMETERS:
        raise AddressError("Too many parameters.")
    problems = _Problems(strict)
    elsewhere: list[str] = []
    selection: dict[str, list[str | None]] = {}
    options: dict[str, tuple[str, ...]] = {}
    for key, values in pairs.items():
        if key == LANGUAGE_KEY:
            continue
        if key in option_keys:
            options[key] = tuple(values[:MAX_VALUES_PER_KEY])
            continue
        if key not in codebook:
            problems.add(_("Ignored the unknown filter “%(key)s”.", key=clip(key)), f"Unknown filter: {clip(key, 60)}.")
            continue
        if attributes is not None and key not in attributes:
            elsewhere.append(
                _("%(attribute)s is not a filter on this page and was left out.", attribute=codebook[key].label)
            )
            continue
        if len(values) > MAX_VALUES_PER_KEY and strict:
            raise AddressError("Too many values for one filter.")
        known = codebook[key].values
        for value in values[:MAX_VALUES_PER_KEY]:
            if value == NOT_RECORDED_TOKEN or value in known:
                selection.setdefault(key, []).append(None if value == NOT_RECORDED_TOKEN else value)
            else:
                problems.add(
                    _(
                        "Ignored “%(value)s”, which is not a value of %(attribute)s.",
                        value=clip(value),
                        attribute=codebook[key].label,
                    ),
                    f"Unknown value of {clip(key, 60)}: {clip(value, 60)}.",
                )
    return Address(Filter.build(codebook, selection), options, tuple(elsewhere + problems.notices))


def encode(flt: Filter, options: Mapping[str, str | Sequence[str]] | None = None) -> str:
    """The query string ("?..." or "") for a filter and page options, in a stable order, ending
    with the current language unless it is the default."""
    pairs = [(name, NOT_RECORDED_TOKEN if v is None else v) for name, values in flt.selections for v in values]
    for key, values in (options or {}).items():
        pairs += [(key, v) for v in ([values] if isinstance(values, str) else values)]
    if i18n.current() != i18n.DEFAULT:
        pairs.append((LANGUAGE_KEY, i18n.current()))
    return ("?" + urlencode(pairs)) if pairs else ""


def with_language(query: str | None, language: str) -> str:
    """`query` ("?..." or "") with its language set to `language`, every other key kept as it was:
    the language switcher's links (English too is named, to override an earlier choice)."""
    pairs = [(k, v) for k, v in parse_qsl((query or "").lstrip("?"), keep_blank_values=True) if k != LANGUAGE_KEY]
    return "?" + urlencode(pairs + [(LANGUAGE_KEY, language)])


def clip(text: str, limit: int = 40) -> str:
    """`text` as shown in a message: printable characters only, at most `limit` of them."""
    text = "".join(ch for ch in str(text) if ch.isprintable())
    return text if len(text) <= limit else text[:limit] + "…"
