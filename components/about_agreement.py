"""About the data's leading section: how close the synthetic records come to the protected counts,
in units of the release's noise (#12), beside what an exact copy of the true records would show.

z = (synthetic count − protected count) / (σ_k·√Δ_k), the noise's standard deviation at the
combination's length k. The reference is theory, not a measurement: a protected count is the
true count plus Gaussian noise, so for records exactly like the true ones z is that noise over
its own standard deviation — mean |z| = √(2/π) ≈ 0.80, and |z| ≤ 1.96 for 95 % of counts. No
sensitive figure enters the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from dash import html

from analysis.comparison_text import signed_z
from components import charts
from components.common import headline
from data.codebook import Codebook
from data.schema import DEVIATION_METRICS, UNLISTED_METRICS
from i18n import N_, _, ngettext
from i18n.numbers import format_count, format_fixed, format_percent

PAGE = "about"
REFERENCE_MEAN_ABS_Z = math.sqrt(2 / math.pi)
REFERENCE_WITHIN_PCT = 95.0
REFERENCE_NAME = N_("exact copy of the true records (theory)")
REFERENCE_COLOUR = "#1b1f24"  # black: apart from the Okabe–Ito colours of the lengths
# The quality metrics this section shows; the page lists any others among its other measurements.
METRICS_SHOWN = (
    DEVIATION_METRICS
    + UNLISTED_METRICS
    + ("implications", "implications_violated", "implication_breaches", "records_with_unlisted_pct")
)


@dataclass(frozen=True)
class Agreement:
    """The store's noise-unit figures (data/store.py's read functions), as the section needs them."""

    by_length: pd.DataFrame  # length (NaN: all lengths), mean_abs_z, within_noise_95_pct …
    by_bucket: pd.DataFrame  # the same per length and bucket_low
    unlisted: pd.DataFrame  # length, unlisted_combinations, unlisted_beyond_noise …
    deviations: pd.DataFrame  # rank, length, key, reference_count, compared_count, z
    totals: dict = field(default_factory=dict)  # metric -> value over the whole release

    @classmethod
    def of(cls, store) -> Agreement:
        return cls(
            store.agreement_by_length(),
            store.agreement_by_bucket(),
            store.unlisted_by_length(),
            store.largest_deviations(),
            store.quality_totals(),
        )

    @property
    def empty(self) -> bool:
        return self.by_length.empty and self.deviations.empty and self.unlisted.empty


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _fixed(value, digits: int = 2, unit: str = "") -> str:
    value = _number(value)
    if value is None:
        return "–"
    return format_percent(value, digits) if unit == "%" else format_fixed(value, digits) + (f" {unit}" if unit else "")


def _whole(value) -> str:
    value = _number(value)
    return "–" if value is None else format_count(round(value))


def _length_name(length) -> str:
    return _("all lengths") if _number(length) is None else _("length %(k)s", k=int(length))


def bucket_name(low: int) -> str:
    """A bucket of protected counts [low, 10·low) by its range; the last one is open."""
    return (
        f"{format_count(low)}–{format_count(10 * low - 1)}"
        if low < 10_000
        else _("%(count)s and more", count=format_count(low))
    )


def describe_key(codebook: Codebook, key: str) -> str:
    """“Gender Woman and Age group 18–20” for the key "ageBroad:18--20;gender:Woman"."""
    words = []
    for item in key.split(";"):
        name, _colon, value = item.partition(":")
        if name in codebook and value in codebook[name].values:
            words.append(f"{codebook[name].label} {codebook[name].label_of(value)}")
        else:
            words.append(item)
    return _(" and ").join(words)


def lead_figures(agreement: Agreement) -> list:
    """Headline figures: over all lengths, mean |z| and the share inside the noise interval, each
    beside its reference; unlisted combinations beyond the noise; implications violated."""
    figures = []
    overall = agreement.by_length[agreement.by_length["length"].isna()]
    if len(overall):
        row = overall.iloc[0]
        figures.append(
            headline(
                _("mean |z| over all lengths"),
                _fixed(row.get("mean_abs_z")),
                _("an exact copy of the true records: about %(value)s", value=format_fixed(REFERENCE_MEAN_ABS_Z, 2)),
            )
        )
        figures.append(
            headline(
                _("inside the 95 % noise interval"),
                _fixed(row.get("within_noise_95_pct"), 1, "%"),
                _("an exact copy of the true records: about %(value)s", value=format_percent(REFERENCE_WITHIN_PCT, 0)),
            )
        )
    unlisted = agreement.unlisted
    if {"unlisted_beyond_noise", "unlisted_combinations"} <= set(unlisted.columns):
        figures.append(
            headline(
                _("unlisted combinations beyond the noise"),
                _whole(unlisted["unlisted_beyond_noise"].sum()),
                _(
                    "among %(count)s combinations the protected counts do not list",
                    count=_whole(unlisted["unlisted_combinations"].sum()),
                ),
            )
        )
    totals = agreement.totals
    if "implications" in totals and "implications_violated" in totals:
        figures.append(
            headline(
                _("implications violated"),
                _(
                    "%(part)s of %(whole)s",
                    part=_whole(totals["implications_violated"]),
                    whole=_whole(totals["implications"]),
                ),
                _("value pairs the protected counts say always go together"),
            )
        )
    return figures


def length_table(by_length: pd.DataFrame):
    """Mean |z|, the share inside the interval and the largest |z| per length, with the reference."""
    header = [
        _("combination length"),
        _("protected counts measured (10 or more)"),
        _("mean |z| (exact copy ≈ %(value)s)", value=format_fixed(REFERENCE_MEAN_ABS_Z, 2)),
        _("inside the 95 %% noise interval (exact copy ≈ %(value)s)", value=format_percent(REFERENCE_WITHIN_PCT, 0)),
        _("largest |z|"),
        _("mean relative error"),
    ]
    rows = [
        [
            _length_name(r.get("length")),
            _whole(r.get("measured_combinations")),
            _fixed(r.get("mean_abs_z")),
            _fixed(r.get("within_noise_95_pct"), 1, "%"),
            _fixed(r.get("max_abs_z"), 1),
            _fixed(r.get("mean_relative_error"), 3),
        ]
        for r in by_length.to_dict(orient="records")
    ]
    return charts.data_table(
        header, rows, caption=_("Synthetic records against the protected counts, in noise units, by combination length")
    )


def _bucket_series(by_bucket: pd.DataFrame, metric: str, reference: float):
    buckets = sorted({int(b) for b in by_bucket["bucket_low"]})
    lookup = {
        (int(r["length"]), int(r["bucket_low"])): _number(r.get(metric)) for r in by_bucket.to_dict(orient="records")
    }
    lengths = sorted({int(k) for k in by_bucket["length"].dropna()})
    series = [charts.Series(_("length %(k)s", k=k), [lookup.get((k, b)) for b in buckets]) for k in lengths]
    series.append(charts.Series(_(REFERENCE_NAME), [reference] * len(buckets), colour=REFERENCE_COLOUR))
    return [bucket_name(b) for b in buckets], series


def bucket_card(by_bucket: pd.DataFrame, metric: str, title: str, reference: float, unit: str = ""):
    """A line per length over the buckets of protected counts, the reference as a black line."""
    if by_bucket.empty or metric not in by_bucket:
        return None
    categories, series = _bucket_series(by_bucket, metric, reference)
    worst = max(
        ((s.name, c, v) for s in series[:-1] for c, v in zip(categories, s.counts) if v is not None),
        key=lambda t: abs(t[2] - reference),
        default=None,
    )
    summary = ngettext(
        "%(title)s per bucket of protected counts for %(num)s combination length, against "
        "%(reference)s for an exact copy of the true records",
        "%(title)s per bucket of protected counts for %(num)s combination lengths, against "
        "%(reference)s for an exact copy of the true records",
        len(series) - 1,
        title=title,
        reference=charts.fmt_measure(reference, unit),
    )
    if worst:
        summary += _(
            "; furthest from it: %(length)s, counts %(bucket)s, at %(value)s",
            length=worst[0],
            bucket=worst[1],
            value=charts.fmt_measure(worst[2], unit),
        )
    view = charts.bar_chart(
        title,
        categories,
        series,
        category_title=_("protected count"),
        value_title=title.lower(),
        counts=False,
        unit=unit,
        lines=True,
        summary=summary + ".",
    )
    name = metric.replace("_", "-")
    return charts.card(
        name,
        title,
        view,
        group=PAGE,
        counts=False,
        height=320,
        notes=[
            _(
                "Each line is one combination length; the black line is what records exactly like the true ones "
                "would show, from the noise alone."
            )
        ],
    )


def deviations_table(deviations: pd.DataFrame, codebook: Codebook):
    if deviations.empty:
        return None
    rows = [
        [describe_key(codebook, r["key"]), int(r["reference_count"]), int(r["compared_count"]), signed_z(r["z"])]
        for r in deviations.sort_values("rank").to_dict(orient="records")
    ]
    return charts.data_table(
        [_("combination"), _("protected count"), _("synthetic records"), "z"],
        rows,
        caption=ngettext(
            "The %(num)s combination furthest from its protected count in noise units",
            "The %(num)s combinations furthest from their protected count in noise units, furthest first",
            len(rows),
        ),
    )


def unlisted_table(unlisted: pd.DataFrame):
    if unlisted.empty:
        return None
    rows = [
        [
            _length_name(r.get("length")),
            _whole(r.get("unlisted_combinations")),
            _whole(r.get("unlisted_beyond_noise")),
            _fixed(r.get("fabricated_pct"), 1, "%"),
            _fixed(r.get("suppressed_pct"), 1, "%"),
        ]
        for r in unlisted.to_dict(orient="records")
    ]
    return charts.data_table(
        [
            _("combination length"),
            _("unlisted combinations of the synthetic records"),
            _("of which beyond the noise"),
            _("unlisted, as a share of the listed ones"),
            _("listed combinations the synthetic records lack"),
        ],
        rows,
        caption=_("Combinations the protected counts do not list"),
    )


def _totals_text(totals: dict) -> str:
    parts = []
    if "records_with_unlisted_pct" in totals:
        parts.append(
            _(
                "%(share)s of the synthetic records hold a combination the protected counts do not list",
                share=_fixed(totals["records_with_unlisted_pct"], 2, "%"),
            )
        )
    if "implication_breaches" in totals:
        breaches = _number(totals["implication_breaches"]) or 0
        parts.append(
            ngettext(
                "%(num)s synthetic record has a value without the value the protected counts say always goes with it",
                "%(num)s synthetic records have a value without the value the protected counts say always goes with it",
                round(breaches),
            )
        )
    return "; ".join(parts) + "." if parts else ""


def section(agreement: Agreement | None, codebook: Codebook):
    """The page's leading section (a short note when the store holds no noise-unit figures)."""
    heading = html.H2(_("How close the synthetic records are to the protected counts"))
    totals = _totals_text(agreement.totals) if agreement else ""
    if agreement is None or agreement.empty:
        return html.Section(
            [
                heading,
                html.P(
                    _(
                        "This store holds no measurements in noise units: an imported "
                        "release carries none, and an older build's measurements, if any, "
                        "are under Other measurements below."
                    )
                ),
            ]
        )
    return html.Section(
        className="agreement",
        children=[
            heading,
            html.P(
                _(
                    "Each protected count carries random noise of a known size. The measure here is z: the "
                    "synthetic records' count of a combination minus its protected count, divided by the standard "
                    "deviation of that noise (σ_k·√Δ_k for a combination of k values). Records exactly like the true "
                    "ones would differ from the protected counts by the noise alone: by theory, not by any sensitive "
                    "figure, their mean |z| would be about %(value)s and 95 %% of their counts would lie within 1.96 "
                    "standard deviations. Larger figures are drift the synthesis added.",
                    value=format_fixed(REFERENCE_MEAN_ABS_Z, 2),
                )
            ),
            html.Div(lead_figures(agreement), className="headlines"),
            length_table(agreement.by_length) if not agreement.by_length.empty else None,
            html.Div(
                [
                    c
                    for c in (
                        bucket_card(agreement.by_bucket, "mean_abs_z", _("Mean |z|"), REFERENCE_MEAN_ABS_Z),
                        bucket_card(
                            agreement.by_bucket,
                            "within_noise_95_pct",
                            _("Inside the 95 % noise interval"),
                            REFERENCE_WITHIN_PCT,
                            "%",
                        ),
                    )
                    if c is not None
                ],
                className="chart-grid",
            ),
            html.H3(_("The largest deviations")),
            deviations_table(agreement.deviations, codebook),
            html.H3(_("Unlisted combinations and implications")),
            html.P(
                _(
                    "A combination of the synthetic records that the protected counts do not list was either "
                    "suppressed (its noisy count fell under the threshold) or never occurred. It is beyond the noise "
                    "when the synthetic records hold it more often than the threshold plus 1.96 noise standard "
                    "deviations: a listed count could not have hidden that many. An implication is a pair of values "
                    "the protected counts show always going together; the synthetic records violate it when more "
                    "than 0.5 % of the records with the one lack the other."
                )
            ),
            unlisted_table(agreement.unlisted),
            html.P(totals) if totals else None,
        ],
    )
