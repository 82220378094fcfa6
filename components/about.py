"""About the data: how close the synthetic records come to the protected counts in noise units
(components/about_agreement.py, first), what the two kinds of numbers are, the release's
parameters, its other measurements (read from the store's `quality` table, whatever metrics it
holds) and the caveats."""

from __future__ import annotations

import math
import re

from dash import dcc, html

from components import about_agreement, charts
from components.common import headline
from i18n import N_, _, ngettext
from i18n.numbers import format_count, format_date, format_number

PAGE = "about"

# Words of metric and comparison names, as the engine writes them, in plain language. A name
# made of other words is still shown, spelt out from its parts.
UNIT_WORDS = {"pct": "%", "percent": "%"}
WORDS = {
    "mae": N_("mean absolute error"),
    "mre": N_("mean relative error"),
    "abs": N_("absolute"),
    "rel": N_("relative"),
    "vs": N_("vs"),
    "sensitive": N_("sensitive records"),
    "synthetic": N_("synthetic records"),
    "protected": N_("protected counts"),
    "aggregates": N_("protected counts"),
}
# The other metrics the engine writes (data/schema.py; the leading section shows the noise-unit
# ones), named whole: a word-by-word reading would not translate (word order, agreement).
METRIC_NAMES = {
    "mean_relative_error": N_("Mean relative error"),
    "mean_absolute_error": N_("Mean absolute error"),
    "fabricated_pct": N_("Fabricated"),
    "suppressed_pct": N_("Suppressed"),
    "retained_pct": N_("Retained"),
    "protected_records": N_("Protected records"),
    "synthetic_records": N_("Synthetic records"),
    "record_expansion_pct": N_("Record expansion"),
    "mean_preservation": N_("Mean preservation"),
    "preservation": N_("Preservation"),
    "mean_proportional_error": N_("Mean proportional error"),
}
EXPLANATIONS = {  # keyed by the last of the metric's words found here (its head noun)
    "suppressed": N_("Share of the combinations of the first set that are missing from the second."),
    "fabricated": N_("Combinations in the second set that the first does not have, as a share of the first's."),
    "absolute": N_(
        "Average difference between the two counts of the same combination, over the combinations both have."
    ),
    "relative": N_("Average difference between the two counts of a combination, as a share of the first count."),
    "preservation": N_(
        "How much of a combination's count survives, min(second ÷ first, 1), averaged per count "
        "bucket [b, 2b): 1 means fully preserved."
    ),
    "proportional": N_(
        "Difference between the two counts of a combination as a share of the first, per count bucket [b, 2b)."
    ),
    "retained": N_("Share of the first set's combinations that the second also has."),
    "expansion": N_("How many more (or fewer) records the synthetic data has than the sensitive records, in %."),
    "combinations": N_("How many combinations there are."),
    "records": N_("How many records there are."),
}


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.split(r"[_\s\-]+", str(name)) if w]


def humanize(name: str, translate=_) -> str:
    """A metric's or comparison's name in words, in the reader's language, without its unit (see
    unit_of): the engine's own metrics by their names, others spelt out word by word;
    `translate=str` gives the English words (which the explanations are keyed by)."""
    if translate is not str and name in METRIC_NAMES:
        return translate(METRIC_NAMES[name])
    text = " ".join(translate(WORDS[w]) if w in WORDS else w for w in _words(name) if w not in UNIT_WORDS)
    return text[:1].upper() + text[1:] if text else str(name)


def unit_of(metric: str) -> str:
    return next((UNIT_WORDS[w] for w in _words(metric) if w in UNIT_WORDS), "")


def _rank(metric: str) -> int:
    order = list(EXPLANATIONS)
    head = _head(metric)
    return order.index(head) if head else len(order)


def _head(metric: str) -> str | None:
    return next((w for w in reversed(humanize(metric, str).lower().split()) if w in EXPLANATIONS), None)


def explanation(metric: str) -> str:
    head = _head(metric)
    return _(EXPLANATIONS[head]) if head else ""


def _value(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _bucket_view(title: str, metric: str, unit: str, by_bucket):
    """Lines of the metric by count bucket, one per combination length."""
    lengths = sorted({int(x) for x in by_bucket["length"].dropna()}) + (
        [None] if by_bucket["length"].isna().any() else []
    )
    buckets = sorted({int(b) for b in by_bucket["bucket_low"]})
    lookup = {
        (None if n is None else int(n), int(b)): _value(v)
        for n, b, v in zip(by_bucket["length"], by_bucket["bucket_low"], by_bucket["value"])
    }
    series = [
        charts.Series(_("all lengths") if n is None else _("length %(k)s", k=n), [lookup.get((n, b)) for b in buckets])
        for n in lengths
    ]
    categories = [f"≥{charts.fmt_compact(b)}" for b in buckets]
    summary = ngettext(
        "%(metric)s by count bucket for %(num)s combination length; from %(first)s in the "
        "smallest bucket to %(last)s in the largest (first length).",
        "%(metric)s by count bucket for %(num)s combination lengths; from %(first)s in the "
        "smallest bucket to %(last)s in the largest (first length).",
        len(lengths),
        metric=humanize(metric),
        first=charts.fmt_measure(_first(series), unit),
        last=charts.fmt_measure(_last(series), unit),
    )
    return charts.bar_chart(
        title,
        categories,
        series,
        category_title=_("bucket of the first count (from b)"),
        value_title=humanize(metric).lower(),
        counts=False,
        unit=unit,
        lines=True,
        summary=summary,
    )


def _length_view(title: str, metric: str, unit: str, by_length, overall):
    """Bars of the metric by combination length, the overall value added to the summary."""
    lengths = [int(x) for x in by_length["length"]]
    values = [_value(v) for v in by_length["value"]]
    summary = "; ".join(
        _("length %(k)s: %(value)s", k=n, value=charts.fmt_measure(v, unit)) for n, v in zip(lengths, values)
    )
    if len(overall):
        summary += "; " + _(
            "over all lengths: %(value)s", value=charts.fmt_measure(_value(overall["value"].iloc[0]), unit)
        )
    return charts.bar_chart(
        title,
        [_("length %(k)s", k=n) for n in lengths],
        [charts.Series(humanize(metric), values)],
        category_title=_("combination length"),
        value_title=humanize(metric).lower(),
        counts=False,
        unit=unit,
        summary=_("%(metric)s by combination length", metric=humanize(metric)) + " — " + summary + ".",
    )


def quality_cards(quality) -> tuple[list, list]:
    """(headline figures for metrics with one value, chart cards for metrics by length or bucket)."""
    headlines, cards = [], []
    if quality is None or quality.empty:
        return headlines, cards
    frame = quality.astype(object).where(quality.notna(), None)
    groups = sorted(frame.groupby(["comparison", "metric"], sort=True), key=lambda g: (g[0][0], _rank(g[0][1])))
    for (comparison, metric), part in groups:
        title = _("%(metric)s: %(comparison)s", metric=humanize(metric), comparison=humanize(comparison).lower())
        unit = unit_of(metric)
        notes = [n for n in [explanation(metric)] if n]
        overall = part[part["length"].isna() & part["bucket_low"].isna()]
        by_length = part[part["length"].notna() & part["bucket_low"].isna()]
        by_bucket = part[part["bucket_low"].notna()]
        if len(overall) and not len(by_length) and not len(by_bucket):
            headlines.append(
                headline(
                    humanize(metric),
                    charts.fmt_measure(_value(overall["value"].iloc[0]), unit),
                    humanize(comparison).lower(),
                )
            )
            continue
        name = f"q-{len(cards)}"
        view = (
            _bucket_view(title, metric, unit, by_bucket)
            if len(by_bucket)
            else _length_view(title, metric, unit, by_length, overall)
        )
        cards.append(charts.card(name, title, view, group=PAGE, notes=notes, counts=False, height=320))
    return headlines, cards


def _first(series) -> float | None:
    return next((v for v in series[0].counts if v is not None), None)


def _last(series) -> float | None:
    return next((v for v in reversed(series[0].counts) if v is not None), None)


def _fmt(value, digits: int = 4) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return format_number(float(f"{value:.{digits}g}"), 12)
    return format_count(value) if isinstance(value, int) else str(value)


def parameters_table(release: dict):
    rows = [
        (_("Release"), release["name"]),
        (
            _("Kind"),
            _("built by this project's engine") if release["kind"] == "built" else _("imported published release"),
        ),
        (
            _("Demonstration data"),
            _("yes: generated stand-ins, not a real release") if release["is_demonstration"] else _("no"),
        ),
        (_("Privacy budget ε"), _fmt(release.get("epsilon"))),
        ("δ", _fmt(release.get("delta"), 3)),
        (_("Longest protected combination (reporting length)"), _fmt(release.get("reporting_length"))),
        (_("Protected record count"), _fmt(release.get("protected_record_count"))),
        (_("Synthetic records"), _fmt(release.get("synthetic_record_count"))),
        (_("Synthesizer"), release.get("synthesizer") or "–"),
        (_("Built"), format_date(release["built_at"]) if release.get("built_at") else "–"),
        (_("Engine version"), release.get("engine_version") or "–"),
        (_("Made from"), release.get("source") or "–"),
    ]
    for key, value in sorted((release.get("parameters") or {}).items()):
        if isinstance(value, (int, float, str, bool)) and key not in ("epsilon", "delta", "reporting_length"):
            rows.append((html.Code(key), _fmt(value)))  # the build's own parameter name
    return html.Table(
        className="params",
        children=[
            html.Caption(_("The release's public parameters")),
            html.Tbody([html.Tr([html.Th(k, scope="row"), html.Td(v)]) for k, v in rows]),
        ],
    )


def lengths_table(lengths):
    if lengths is None or lengths.empty:
        return html.P(_("The store records no per-length parameters for this release."))
    header = [
        _("length k"),
        "σ_k",
        _("Δ_k (contributions kept per record)"),
        _("noise sd σ_k·√Δ_k"),
        _("threshold"),
        _("combinations released"),
    ]
    rows = [
        [
            f"{int(r['length'])}",
            _fmt(r["sigma"]),
            _fmt(None if r["sensitivity"] is None else int(r["sensitivity"])),
            _fmt(r["noise_sd"]),
            _fmt(r["threshold"]),
            int(r["combinations"]),
        ]
        for r in lengths.astype(object).where(lengths.notna(), None).to_dict(orient="records")
    ]
    return charts.data_table(header, rows, caption=_("Noise and thresholds by combination length"))


def other_measurements(quality):
    """The quality rows the leading section does not show."""
    if quality is None or quality.empty:
        return quality
    return quality[~quality["metric"].isin(about_agreement.METRICS_SHOWN)]


def _two_kinds_section(eps):
    """Why the synthetic records and the protected counts are different numbers."""
    return html.Section(
        [
            html.H2(_("Two kinds of numbers")),
            html.P(
                _(
                    "The release has two parts. The synthetic records are made-up records, one per row, that "
                    "reproduce the patterns of the sensitive case records without being any of them. Every chart "
                    "on the Overview and Explore pages counts synthetic records, because only records can be "
                    "filtered and cut in any way."
                )
            ),
            html.P(
                _(
                    "The protected counts are counts of short combinations of values (for example, “woman, aged "
                    "18–20”) taken from the sensitive records, with random noise added and small counts removed, "
                    "so that no one's presence in the data can be inferred (differential privacy, here with "
                    "ε = %(epsilon)s). They are the release's reference figures for those combinations.",
                    epsilon=format_number(eps, 3),
                )
                if eps is not None
                else _(
                    "The protected counts are counts of short combinations of values (for example, “woman, aged "
                    "18–20”) taken from the sensitive records, with random noise added and small counts removed, "
                    "so that no one's presence in the data can be inferred (differential privacy). They are the "
                    "release's reference figures for those combinations."
                )
            ),
            html.P(
                _(
                    "The two differ because the synthetic records are built from the noisy counts and then drawn "
                    "at random: counts of records drift from the protected ones, longer combinations drift more, "
                    "and combinations that are rare or absent among the protected counts can be missing or "
                    "appear in the records. Where the Explore page shows both, trust the protected count."
                )
            ),
        ]
    )


def _release_section(store):
    """The release parameters and the noise per combination length."""
    return html.Section(
        [
            html.H2(_("This release")),
            parameters_table(store.release),
            lengths_table(store.release_lengths),
            html.P(
                _(
                    "σ_k is the share of the noise scale given to combinations of k values, Δ_k how many "
                    "such combinations one record may contribute, and the threshold the noisy count a "
                    "combination had to exceed to be released."
                ),
                className="muted",
            ),
        ]
    )


def _other_measurements_section(headlines, cards):
    """Headline figures and charts of the measurements not shown by the agreement section."""
    if not (headlines or cards):
        return None
    return html.Section(
        [
            html.H2(_("Other measurements")),
            html.P(
                _("Measured when the release was built, by comparing the synthetic records with the protected counts.")
            ),
            html.Div(headlines, className="headlines") if headlines else None,
            html.Div(cards, className="chart-grid") if cards else None,
        ]
    )


def _care_section(is_demonstration):
    """Caveats for reading any figure of the release."""
    return html.Section(
        [
            html.H2(_("Read the figures with care")),
            html.Ul(
                [
                    html.Li(
                        _(
                            "Identified is not the same as trafficked: the records are of people identified by or "
                            "reported to the contributing organisations, not a sample of all victims. Where they "
                            "operate, and who comes forward, shapes the data."
                        )
                    ),
                    html.Li(
                        _(
                            "Some countries are suppressed on purpose. A country with no records on a map may have "
                            "cases that were removed to protect the people concerned."
                        )
                    ),
                    html.Li(
                        _(
                            "An empty value means “not recorded”, never “no”. A record without a type of "
                            "exploitation is not a record of no exploitation."
                        )
                    ),
                    html.Li(
                        _(
                            "One record can be in several categories of a group (several means of control, both "
                            "forced labour and sexual exploitation…). Percentages within a group are taken over the "
                            "records with at least one value in that group and can add up to more than 100 %."
                        )
                    ),
                    html.Li(
                        _(
                            "Counts under %(low)s are unreliable and are marked wherever they are shown.",
                            low=charts.LOW_COUNT,
                        )
                    ),
                ]
                + (
                    [
                        html.Li(
                            _(
                                "This is demonstration data: generated stand-ins calibrated to published figures, "
                                "not a real release."
                            )
                        )
                    ]
                    if is_demonstration
                    else []
                )
            ),
            html.P(
                [
                    _("The codebook and a data card with every parameter are on the Downloads page:"),
                    " ",
                    dcc.Link(_("Downloads"), href="/downloads"),
                ]
            ),
        ]
    )


def layout(service, search):
    store = service.store()
    release = store.release
    headlines, cards = quality_cards(other_measurements(service.quality()))
    eps = release.get("epsilon")
    return html.Div(
        className="about prose",
        children=[
            html.H1(_("About the data")),
            about_agreement.section(about_agreement.Agreement.of(store), store.codebook),
            _two_kinds_section(eps),
            _release_section(store),
            _other_measurements_section(headlines, cards),
            _care_section(release["is_demonstration"]),
        ],
    )
