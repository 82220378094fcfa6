"""Filters in the query string, both ways.

Each attribute's name is a query key and each chosen value one occurrence of it, e.g.
`?gender=Woman&ageBroad=09--17&ageBroad=18--20`; `~` stands for "not recorded". Anything that
does not match the store's codebook is dropped and reported as a notice, never an error.
"""
from __future__ import annotations

from urllib.parse import urlencode

from data.codebook import Codebook

NOT_RECORDED_TOKEN = "~"
MAX_VALUES_PER_KEY = 500


def parse_filters(codebook: Codebook, query: dict[str, list[str]], extra_keys=(),
                  attributes=None) -> tuple[dict[str, list[str | None]], dict[str, list[str]], list[str]]:
    """(filter mapping, page-specific parameters, notices) from a parsed query string.

    `extra_keys` are the page's own parameters (kept as given); `attributes`, when set,
    limits which attributes the page filters on."""
    mapping: dict[str, list[str | None]] = {}
    extras: dict[str, list[str]] = {}
    notices: list[str] = []
    for key, raw_values in (query or {}).items():
        if key in extra_keys:
            extras[key] = list(raw_values)[:MAX_VALUES_PER_KEY]
            continue
        if key not in codebook or (attributes is not None and key not in attributes):
            notices.append(f"Ignored the unknown filter “{clip(key)}”.")
            continue
        known = codebook[key].values
        for value in list(raw_values)[:MAX_VALUES_PER_KEY]:
            if value == NOT_RECORDED_TOKEN:
                mapping.setdefault(key, []).append(None)
            elif value in known:
                mapping.setdefault(key, []).append(value)
            else:
                notices.append(f"Ignored “{clip(value)}”, which is not a value of {codebook[key].label}.")
    return mapping, extras, notices


def encode_filters(mapping: dict[str, list[str | None]], extras: dict[str, list[str] | str] | None = None) -> str:
    """The query string ("?..." or "") for filters and page parameters, in a stable order."""
    pairs = [(name, NOT_RECORDED_TOKEN if v is None else v)
             for name, values in mapping.items() for v in values]
    for key, values in (extras or {}).items():
        for v in [values] if isinstance(values, str) else values:
            pairs.append((key, v))
    return ("?" + urlencode(pairs)) if pairs else ""


def clip(text: str, limit: int = 40) -> str:
    """`text` as shown in a message: printable characters only, at most `limit` of them."""
    text = "".join(ch for ch in str(text) if ch.isprintable())
    return text if len(text) <= limit else text[:limit] + "…"
