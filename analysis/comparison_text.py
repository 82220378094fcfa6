"""The words for a comparison: its verdict, notes for tables, the difference and the bounds read aloud.

Pure text over `comparability`'s results — no Dash, no SQL.
"""

from __future__ import annotations

from analysis.comparability import (
    BEYOND,
    DERIVED,
    EXACT,
    LOWER_BOUND,
    NO_AGGREGATES,
    SUPPRESSED,
    UNAVAILABLE,
    UNDERIVABLE,
    Z95,
    Comparison,
    Part,
    ReleaseFacts,
    Verdict,
)
from i18n import N_, gettext, ngettext
from i18n.numbers import format_count, format_fixed, format_percent

# Comparability grades: (lowest score, name). The score is smaller count / larger count.
GRADES = ((0.9, "close"), (0.75, "fair"), (0.5, "loose"), (0.0, "poor"))


def grade(score: float) -> str:
    return next(name for lowest, name in GRADES if score >= lowest)


GRADE_NAMES = {"close": N_("close"), "fair": N_("fair"), "loose": N_("loose"), "poor": N_("poor")}


def grade_name(name: str) -> str:
    """A grade as the reader reads it ("" stays "")."""
    return gettext(GRADE_NAMES[name]) if name in GRADE_NAMES else name


def describe_difference(c: Comparison) -> str:
    """E.g. "271 fewer synthetic records: a 34 % shortfall"."""
    d = c.difference
    if d is None:
        return ""
    if d == 0:
        return gettext("no difference")
    n = (
        ngettext("%(num)s fewer synthetic record", "%(num)s fewer synthetic records", abs(d))
        if d < 0
        else ngettext("%(num)s more synthetic record", "%(num)s more synthetic records", abs(d))
    )
    if c.relative_difference is None:
        return n
    share = percent(abs(c.relative_difference))
    return (
        gettext("%(difference)s: a %(share)s shortfall", difference=n, share=share)
        if d < 0
        else gettext("%(difference)s: a %(share)s excess", difference=n, share=share)
    )


def percent(share: float) -> str:
    """A share as a whole percentage; under 1 %, with two significant digits (never a bare 0 %)."""
    text = f"{share * 100:.2g}" if 0 < share < 0.01 else f"{share * 100:.0f}"
    return format_percent(float(text), len(text.partition(".")[2]))


def note(c: Comparison, facts: ReleaseFacts) -> str:
    """A few words on where the protected count came from, or why there is none (for tables)."""
    if c.status == EXACT:
        return ""
    if c.status == DERIVED:
        return gettext("derived by subtraction")
    if c.status == LOWER_BOUND:
        return ngettext(
            "at least: %(missing)s of %(num)s part suppressed",
            "at least: %(missing)s of %(num)s parts suppressed",
            len(c.parts),
            missing=format_count(len(c.missing_parts)),
        )
    if c.status == BEYOND:
        bounds = describe_bounds(c)
        longer = gettext("longer than the reporting length %(length)s", length=facts.reporting_length)
        return longer + (f"; {bounds}" if bounds else "")
    if c.status == NO_AGGREGATES:
        return gettext("no protected counts published")
    if len(c.parts) == 1 and c.parts[0].status == SUPPRESSED:
        threshold = facts.thresholds.get(len(c.parts[0].items))
        if threshold is None:
            return gettext("suppressed: at or below the threshold, or absent")
        return gettext(
            "suppressed: at or below the threshold (%(threshold)s at length %(length)s), or absent",
            threshold=format_fixed(threshold, 1),
            length=len(c.parts[0].items),
        )
    if len(c.parts) == 1 and c.parts[0].status == UNDERIVABLE:
        return (
            gettext("not derivable: a count it needs is suppressed")
            if c.parts[0].unreleased
            else gettext("not derived here: it needs too many counts")
        )
    return gettext("unavailable: every part suppressed") if c.parts else gettext("unavailable: too many combinations")


def describe_bounds(c: Comparison | Part) -> str:
    """What the protected counts say of a selection beyond the reporting length: "between L and
    U", "at most U", "at least L", or "" when they say nothing."""
    if c.lower and c.bound is not None:
        return gettext("between %(low)s and %(high)s", low=format_count(c.lower), high=format_count(c.bound))
    if c.bound is not None:
        return gettext("at most %(count)s", count=format_count(c.bound))
    return gettext("at least %(count)s", count=format_count(c.lower)) if c.lower else ""


def signed_z(z: float) -> str:
    """z with its sign and a true minus sign, e.g. "−2.4" (the decimal mark the reader's)."""
    return ("+" if z >= 0 else "−") + format_fixed(abs(z), 1)


def _records(n: float) -> str:
    whole = n >= 10 or n == int(n)
    amount = format_count(round(n)) if whole else format_fixed(n, 1)
    # A fraction of a record takes the plural form languages give to decimals ("other").
    return ngettext("%(amount)s record", "%(amount)s records", round(n) if whole else 100, amount=amount)


def noise_reading(c: Comparison) -> tuple[str, str]:
    """(lead, detail): the difference read against the protected count's noise."""
    z = c.z
    if z is None:
        return "", gettext(
            "The release does not say how much noise this protected count carries, so only the "
            "relative grade reads the difference."
        )
    half = Z95 * c.noise_sd
    gap = abs(c.difference)
    values = {"difference": _records(gap), "z": format_fixed(abs(z), 1), "signed_z": signed_z(z)}
    if c.within_noise:
        return (
            gettext("Within the noise (z = %(signed_z)s).", **values),
            gettext(
                "A difference of %(difference)s is %(z)s standard deviations of the noise: within the "
                "noise added to the protected count.",
                **values,
            ),
        )
    return (
        gettext("Beyond the noise by %(excess)s (z = %(signed_z)s).", excess=_records(gap - half), **values),
        gettext(
            "A difference of %(difference)s is %(z)s standard deviations of the noise, which stays within "
            "± %(half)s records 95 %% of the time.",
            half=format_fixed(half, 1),
            **values,
        ),
    )


GRADE_TEXTS = {
    "close": N_("Close: the synthetic count is within 10 % of the protected count."),
    "fair": N_("Fair: the counts differ by between 10 % and 25 % of the larger one."),
    "loose": N_(
        "Loose: the counts differ by between 25 % and 50 % of the larger one; "
        "read the synthetic count as a rough indication only."
    ),
    "poor": N_("Poor: the counts differ by more than half; do not rely on the synthetic count here."),
}


def verdict(c: Comparison) -> Verdict:
    """A plain-language reading of the comparison."""
    if c.status == NO_AGGREGATES:
        return Verdict(
            "",
            gettext(
                "This release published no protected counts, so the synthetic count cannot be "
                "checked against one: it is the only estimate."
            ),
        )
    if c.status == BEYOND:
        return _beyond_verdict(c)
    if c.status == UNAVAILABLE:
        return Verdict(
            "",
            gettext("No protected count is available for this selection, so the synthetic count is the only estimate."),
        )
    name = grade(c.score)
    lower = ""
    if c.status == LOWER_BOUND:
        if c.synthetic >= c.protected:
            return Verdict(
                "",
                gettext(
                    "Some parts of this selection were suppressed, so the protected count is only "
                    "known to be at least %(count)s; the synthetic count is above that, which is "
                    "consistent, but the two cannot be graded.",
                    count=format_count(c.protected),
                ),
            )
        lower = gettext("Measured against a lower bound (some parts were suppressed).")
    lead, detail = noise_reading(c)
    return Verdict(name, " ".join(t for t in (lower, lead, gettext(GRADE_TEXTS[name]), detail) if t))


def _beyond_verdict(c: Comparison) -> Verdict:
    if c.bound is not None and c.synthetic > c.bound + Z95 * (c.noise_sd or 0.0):
        return Verdict(
            "",
            gettext(
                "The synthetic count is the only estimate for a selection this long, and it is "
                "above %(bound)s, the most the protected counts allow, by more than their noise: "
                "treat it with caution.",
                bound=format_count(c.bound),
            ),
        )
    if c.synthetic < c.lower:
        return Verdict(
            "",
            gettext(
                "The synthetic count is the only estimate for a selection this long, and it is "
                "below %(bound)s, the least the protected counts allow: treat it with caution.",
                bound=format_count(c.lower),
            ),
        )
    bounds = describe_bounds(c)
    text = (
        gettext(
            "The synthetic count is the only estimate for a selection this long; the protected counts "
            "only say it is %(bounds)s.",
            bounds=bounds,
        )
        if bounds
        else gettext("The synthetic count is the only estimate for a selection this long.")
    )
    if c.bound is not None and c.synthetic > c.bound:
        text += " " + gettext("The synthetic count is above the upper bound by less than the bound's noise.")
    return Verdict("", text)
