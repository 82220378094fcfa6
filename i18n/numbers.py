"""Numbers and dates in the reader's language: thousands separators, decimal marks, percentages,
and plotly's `separators` for charts' axes and hover labels. Digits stay Latin (Babel's default
numbering system) in every language, Arabic included: the release's codes and years use them."""

from __future__ import annotations

import datetime as dt
import math

from babel.dates import format_date as babel_format_date
from babel.numbers import (
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)

from i18n import current, locale

DASH = "–"
# The project's English style puts a space before the sign (12.5 %); the other languages follow
# their locale's pattern.
PERCENT_PATTERNS = {"en": "#,##0 %"}


def format_count(n) -> str:
    """A whole number with the language's grouping: 12,345 / 12 345 / 12.345."""
    return format_decimal(int(n), locale=current())


def format_number(value, digits: int = 1) -> str:
    """`value` with at most `digits` decimals (trailing zeros dropped), in the language's marks."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return format_decimal(round(float(value), digits), locale=current(), decimal_quantization=False)


def format_fixed(value, digits: int) -> str:
    """`value` with exactly `digits` decimals."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=current())


def format_percent(percent, digits: int = 1) -> str:
    """A percentage given out of 100, in the language's pattern: 12.5 %, 12,5 %, 12.5%."""
    if percent is None or (isinstance(percent, float) and math.isnan(percent)):
        return DASH
    pattern = parse_pattern(PERCENT_PATTERNS.get(current()) or locale().percent_formats[None].pattern)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(percent / 100.0, locale())


def plotly_separators() -> str:
    """plotly's `layout.separators`: the decimal mark, then the thousands separator."""
    return get_decimal_symbol(current()) + get_group_symbol(current())


def format_date(value) -> str:
    """A date (or an ISO date string) in the language's medium form; other text as given."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    return babel_format_date(value, format="medium", locale=current())
