"""Demonstration source: stand-in sensitive case records in the layout of CTDC's published CSV.

The records describe nobody. They exist so the whole pipeline (load, aggregate, synthesize,
evaluate, serve) can be exercised end to end without access to real case data, on a file whose
size, sparsity and headline statistics resemble the 2025 Global Synthetic Dataset.

How a record is made
--------------------
The generator is a seeded generative model, drawn column block by column block, every later block
conditioned on the earlier ones:

1. *Where and when.* The CountryOfExploitation x yearOfRegistration cell comes from the 2025
   reference table (``ctdc-2025-country-of-exploitation-by-year.csv``), including its "no country"
   row and "no year" column. The cells are allocated as a stratified draw (largest remainder of the
   table scaled to ``rows``), so the table is reproduced without sampling noise.
2. *Who.* A latent "level of detail" per record (how much a case file says) drives which columns
   are recorded at all, so empty columns cluster in the same sparse rows, as in the real file.
   Gender and age are then drawn given the country (labour-destination countries get more men,
   a few countries more children); citizenship is drawn given the country of exploitation
   (mostly the same country, or one of a handful of origin countries per destination; records
   exploited in the USA mostly have none, the pattern of the US hotline data).
3. *What.* The combination of exploitation flags (forced labour, sexual, other, their pairs, or
   none) depends on country, gender, age and detail.
4. *How.* Labour sector only for forced labour, type of sex only for sexual exploitation; means
   of control, recruiter relation and duration depend on the exploitation type, and recruiter
   family is favoured for children.

Exact quotas
------------
Each "how many records have a value" and "how many records carry this flag" is a quota computed
from the reference figures and scaled to ``rows``; records are chosen for a quota by weighted
sampling without replacement (Efraimidis-Spirakis keys). The seed decides *which* records carry
a value, the calibration decides *how many*. Within a multi-valued group (means, sector, sex type,
recruiter) every chosen record first gets one "primary" flag, then a few get extra flags, so each
flag lands exactly on its fill count and every chosen record has at least one flag: the group's
denominator (records with at least one ``1`` in the group, as the codebook defines it) is exact.

Choices where the published figures disagree
--------------------------------------------
The shares CTDC published are taken from the 2024 release; the fill counts are the 2025 file's.
The fill counts always win:

* Exploitation type: with the 2025 fills (FL 62,821, SE 99,618, other 12,964), "all exploitation
  flags empty = 32 %" would put sexual exploitation at 57 % and forced labour at 36 %. We choose
  ~166,000 records with at least one flag (35.6 % empty), which gives sexual 60.0 % and forced
  labour 37.8 % (published 61 % / 37 %), with ~9,400 records carrying two types.
* Sectors: the four fills add up to 29,659, so the published 37/33/19/12 imply almost no record
  with two sectors; 0.5 % of sector records get two, giving 37.1/32.4/18.5/12.5.
* Types of sex: fills 39,406 + 6,684 give 85.8 % / 14.6 % with 0.4 % of records having both.
* Recruiter: "all empty 74 %" leaves room for only ~130 records with two relations, so the
  relations are almost exclusive.
* Means of control: "all empty 62 %" gives ~98,000 records with a means flag. Half of the
  sexual-exploitation records carry one (so the published 62/38/37 can be met exactly); the
  remaining means flags go mostly to forced-labour records.

Everything in the module is a stand-in: the per-country tendencies and origin lists below are
plausible patterns, not measurements, and must never be quoted as facts about trafficking.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synth_engine import demo_calibration as cal
from synth_engine.demo_calibration import COLUMNS, FILL_2025, REFERENCE_ROWS, coe_year_table

__all__ = ["COLUMNS", "REFERENCE_ROWS", "FILL_2025", "coe_year_table", "generate_demo_frame", "write_demo_source"]


# ---------------------------------------------------------------------------------------------
# Sampling primitives
# ---------------------------------------------------------------------------------------------


def _scaled(count: float, rows: int) -> int:
    """A 2025 count scaled to ``rows`` and rounded."""
    return int(round(count * rows / cal.REFERENCE_ROWS))


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers proportional to ``weights`` that add up to ``total``."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights * (total / weights.sum())
    base = np.floor(exact).astype(np.int64)
    short = total - int(base.sum())
    if short > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Choose exactly ``k`` of ``candidates`` without replacement, favouring large weights.

    Efraimidis-Spirakis: key = log(u) / w, keep the k largest keys. ``weights`` is aligned with
    ``candidates``.
    """
    n = len(candidates)
    k = max(0, min(int(k), n))
    if k == 0:
        return candidates[:0]
    u = 1.0 - rng.random(n)  # in (0, 1]
    if weights is None:
        keys = u
    else:
        keys = np.log(u) / np.maximum(weights, 1e-9)
    if k == n:
        return candidates
    chosen = np.argpartition(-keys, k - 1)[:k]
    return candidates[np.sort(chosen)]


def _assign_classes(
    rng: np.random.Generator, candidates: np.ndarray, counts: np.ndarray, weight_of: Callable[[int], np.ndarray | None]
) -> np.ndarray:
    """Give each candidate one class 0..K-1 with exactly ``counts[c]`` members per class.

    Classes are filled in order from the candidates still free, each by a weighted pick
    (``weight_of(c)`` is indexed by row number, or None for uniform); the last class takes what
    is left. Returns the class of each candidate.
    """
    labels = np.full(len(candidates), len(counts) - 1, dtype=np.int64)
    free = np.ones(len(candidates), dtype=bool)
    positions = np.arange(len(candidates))
    for c in range(len(counts) - 1):
        pool = positions[free]
        w = weight_of(c)
        taken = _pick(rng, pool, counts[c], None if w is None else w[candidates[pool]])
        labels[taken] = c
        free[taken] = False
    return labels


def _flag_block(
    rng: np.random.Generator,
    candidates: np.ndarray,
    recorded: int,
    targets: np.ndarray,
    recorded_weight: np.ndarray | None,
    class_weight: Callable[[int], np.ndarray | None],
    flags: np.ndarray,
) -> np.ndarray:
    """Set a group of flags on ``recorded`` of the ``candidates``, flag k on ``targets[k]`` rows.

    Every chosen record gets one primary flag (classes sized in proportion to the targets), then
    extra flags are added on chosen records lacking them until each flag reaches its target.
    ``flags`` (rows x K, bool) is updated in place; returns the chosen rows.
    """
    targets = np.maximum(np.asarray(targets, dtype=np.int64), 0)
    recorded = int(min(recorded, len(candidates), targets.sum()))
    targets = np.minimum(targets, recorded)
    if recorded <= 0:
        return candidates[:0]
    chosen = _pick(rng, candidates, recorded, None if recorded_weight is None else recorded_weight[candidates])
    primary = _largest_remainder(targets, recorded)
    labels = _assign_classes(rng, chosen, primary, class_weight)
    flags[chosen, labels] = True
    for k in range(len(targets)):
        extra = int(targets[k] - primary[k])
        if extra > 0:
            lacking = chosen[~flags[chosen, k]]
            w = class_weight(k)
            more = _pick(rng, lacking, extra, None if w is None else w[lacking])
            flags[more, k] = True
    return chosen


def _lookup(table: dict, keys, default: float) -> np.ndarray:
    """``table[key]`` for each key of a (small) vocabulary; index the result with codes."""
    return np.array([table.get(k, default) for k in keys], dtype=float)


# ---------------------------------------------------------------------------------------------
# The model: one function per step, in the order the steps draw from the generator
# ---------------------------------------------------------------------------------------------

Columns = dict[str, tuple[np.ndarray, tuple[str, ...]]]


@dataclass
class _Cases:
    """What the earlier steps drew about every record, for the later steps to condition on."""

    rng: np.random.Generator
    rows: int
    coe_vocab: tuple[str, ...]
    coe_code: np.ndarray
    coe: np.ndarray  # country of exploitation ("" = none)
    year: np.ndarray  # year of registration ("" = none)
    rich: np.ndarray  # weight towards "recorded" (latent level of detail)
    sparse: np.ndarray  # weight towards "not recorded"
    fl_tendency: np.ndarray
    child_tendency: np.ndarray
    other_tendency: np.ndarray
    gender: np.ndarray | None = None
    is_child: np.ndarray | None = None
    is_fl: np.ndarray | None = None
    is_se: np.ndarray | None = None
    is_ot: np.ndarray | None = None

    @property
    def all_rows(self) -> np.ndarray:
        return np.arange(self.rows)


def _where_and_when(rng: np.random.Generator, rows: int, out: Columns) -> _Cases:
    """1. A stratified draw of the country x year cells, then the latent level of detail."""
    table = cal.coe_year_table()
    cell_counts = _largest_remainder(table.to_numpy().ravel(), rows)
    cells = np.repeat(np.arange(cell_counts.size), cell_counts)
    cells = cells[rng.permutation(rows)]
    n_years = table.shape[1]
    table_countries = np.array(table.index)
    coe_vocab = tuple(sorted(table.index))
    coe_code = np.searchsorted(np.array(coe_vocab), table_countries)[cells // n_years]
    year_vocab = tuple(sorted(table.columns))
    year_code = np.searchsorted(np.array(year_vocab), np.array(table.columns))[cells % n_years]
    out["CountryOfExploitation"] = (coe_code, coe_vocab)
    out["yearOfRegistration"] = (year_code, year_vocab)
    detail = rng.beta(2.0, 2.0, rows)
    rich = np.exp(cal.DETAIL_STRENGTH * (detail - 0.5))
    return _Cases(
        rng=rng,
        rows=rows,
        coe_vocab=coe_vocab,
        coe_code=coe_code,
        coe=np.array(coe_vocab, dtype=object)[coe_code],
        year=np.array(year_vocab, dtype=object)[year_code],
        rich=rich,
        sparse=1.0 / rich,
        fl_tendency=_lookup(cal.FL_TENDENCY, coe_vocab, cal.FL_TENDENCY_DEFAULT)[coe_code],
        child_tendency=_lookup(cal.CHILD_TENDENCY, coe_vocab, 1.0)[coe_code],
        other_tendency=_lookup(cal.OTHER_TENDENCY, coe_vocab, 1.0)[coe_code],
    )


def _draw_gender(cases: _Cases, out: Columns) -> None:
    """2a. Which records have a gender, then Trans, Man, Woman (the rest)."""
    rows, rng = cases.rows, cases.rng
    gender = np.full(rows, "", dtype=object)
    known = _pick(rng, cases.all_rows, _scaled(cal.FILL_2025["gender"], rows), cases.rich)
    order = ("Trans/Transgender/NonConforming", "Man", "Woman")
    counts = _largest_remainder([cal.GENDER_SHARE_OF_KNOWN[g] for g in order], len(known))
    trans_ok = np.where((cases.year == "") | (cases.year >= "2015"), 1.0, 1e-6)
    man_w = cal.MAN_BASE_WEIGHT + cases.fl_tendency
    labels = _assign_classes(rng, known, counts, lambda c: (trans_ok, man_w)[c] if c < 2 else None)
    gender[known] = np.array(order, dtype=object)[labels]
    out["gender"] = _codes(gender, ("",) + cal.GENDERS)
    cases.gender = gender


def _draw_age(cases: _Cases, out: Columns) -> None:
    """2b. Which records have an age, then children (0--8 first), then the adult bands."""
    rows, rng = cases.rows, cases.rng
    age = np.full(rows, "", dtype=object)
    known = _pick(rng, cases.all_rows, _scaled(cal.FILL_2025["ageBroad"], rows), cases.rich)
    counts = _largest_remainder([cal.AGE_SHARE_OF_KNOWN[a] for a in cal.AGES], len(known))
    young_w = cases.child_tendency * np.where(cases.fl_tendency < 0.5, cal.CHILD_SE_COUNTRY_WEIGHT, 1.0)
    labels = _assign_classes(rng, known, counts, lambda c: young_w if c < 2 else None)
    age[known] = np.array(cal.AGES, dtype=object)[labels]
    out["ageBroad"] = _codes(age, ("",) + cal.AGES)
    cases.is_child = (age == "0--8") | (age == "09--17")


def _draw_citizenship(cases: _Cases, out: Columns) -> None:
    """2c. How many records have a citizenship per country group, then which origin."""
    rows, rng, coe, rich = cases.rows, cases.rng, cases.coe, cases.rich
    citizenship = np.full(rows, "", dtype=object)
    total = _scaled(cal.FILL_2025["citizenship"], rows)
    fixed = {
        key: int(round(share * np.count_nonzero(coe == key))) for key, share in cal.CITIZENSHIP_KNOWN_SHARE.items()
    }
    known_parts = [_pick(rng, np.flatnonzero(coe == key), k, rich[coe == key]) for key, k in fixed.items()]
    others = np.flatnonzero(~np.isin(coe, list(fixed)))
    known_parts.append(_pick(rng, others, total - sum(fixed.values()), rich[others]))
    has_cit = np.zeros(rows, dtype=bool)
    for part in known_parts:
        has_cit[part] = True
    global_codes, global_p = cal.parse_weights(cal.CITIZENSHIP_GLOBAL)
    for k, country in enumerate(cases.coe_vocab):
        idx = np.flatnonzero(has_cit & (cases.coe_code == k))
        if idx.size == 0:
            continue
        codes, p = _origin_distribution(country, global_codes, global_p)
        citizenship[idx] = np.array(codes, dtype=object)[rng.choice(len(codes), idx.size, p=p)]
    out["citizenship"] = _codes(citizenship, ("",) + cal.CITIZENSHIP_CODES)


def _draw_exploitation(cases: _Cases, out: Columns) -> None:
    """3. Exploitation type: exact sizes of none / pairs / singles, filled in that order."""
    rows = cases.rows
    fl_n, se_n, ot_n = (_scaled(cal.FILL_2025[c], rows) for c in cal.EXPLOITATION)
    pair = {key: int(round(share * rows)) for key, share in cal.EXPLOITATION_PAIR_SHARE.items()}
    singles = {
        "FL": fl_n - pair[("FL", "SE")] - pair[("FL", "OT")],
        "SE": se_n - pair[("FL", "SE")] - pair[("SE", "OT")],
        "OT": ot_n - pair[("FL", "OT")] - pair[("SE", "OT")],
    }
    none_n = rows - sum(singles.values()) - sum(pair.values())
    combos = [(), ("FL", "SE"), ("FL", "OT"), ("SE", "OT"), ("OT",), ("FL",), ("SE",)]
    combo_counts = np.array(
        [
            none_n,
            pair[("FL", "SE")],
            pair[("FL", "OT")],
            pair[("SE", "OT")],
            singles["OT"],
            singles["FL"],
            singles["SE"],
        ]
    )
    g_code, g_vocab = out["gender"]

    def weight(kind: str, tendency: np.ndarray) -> np.ndarray:
        return (
            tendency
            * _lookup(cal.EXPLOIT_GENDER_WEIGHT[kind], g_vocab, 1.0)[g_code]
            * np.where(cases.is_child, cal.EXPLOIT_CHILD_WEIGHT[kind], 1.0)
            * cases.rich
        )

    w_fl = weight("FL", cases.fl_tendency)
    w_se = weight("SE", 1.0 - cases.fl_tendency)
    w_ot = weight("OT", cases.other_tendency)
    combo_weight = [cases.sparse, np.sqrt(w_fl * w_se), np.sqrt(w_fl * w_ot), np.sqrt(w_se * w_ot), w_ot, w_fl, None]
    combo = _assign_classes(cases.rng, cases.all_rows, combo_counts, lambda c: combo_weight[c])
    cases.is_fl, cases.is_se, cases.is_ot = (
        np.isin(combo, [i for i, c in enumerate(combos) if kind in c]) for kind in ("FL", "SE", "OT")
    )
    for name, mask in zip(cal.EXPLOITATION, (cases.is_fl, cases.is_se, cases.is_ot)):
        out[name] = _flag_codes(mask)


def _draw_sectors(cases: _Cases, out: Columns) -> None:
    """4a. Labour sector: only forced-labour records."""
    rows = cases.rows
    is_man, is_woman = cases.gender == "Man", cases.gender == "Woman"
    targets = np.array([_scaled(cal.FILL_2025[c], rows) for c in cal.SECTORS])
    recorded = int(round(targets.sum() / (1.0 + cal.SECTOR_MULTI_SHARE)))
    domestic_place = np.isin(cases.coe, cal.DOMESTIC_WORK_COUNTRIES)
    sector_w = []
    for name in cal.SECTORS:
        gw = cal.SECTOR_GENDER_WEIGHT[name]
        w = np.where(is_man, gw["Man"], np.where(is_woman, gw["Woman"], 1.0))
        if name == "typeOfLabourDomesticWork":
            w = (
                w
                * np.where(domestic_place, cal.DOMESTIC_WORK_PLACE_WEIGHT, 1.0)
                * np.where(cases.is_child, cal.DOMESTIC_WORK_CHILD_WEIGHT, 1.0)
            )
        sector_w.append(w)
    sector_flags = np.zeros((rows, len(cal.SECTORS)), dtype=bool)
    _flag_block(
        cases.rng, np.flatnonzero(cases.is_fl), recorded, targets, cases.rich, lambda k: sector_w[k], sector_flags
    )
    _flag_columns(cal.SECTORS, sector_flags, out)


def _draw_sex_types(cases: _Cases, out: Columns) -> None:
    """4b. Type of sexual exploitation: only sexual-exploitation records."""
    targets = np.array([_scaled(cal.FILL_2025[c], cases.rows) for c in cal.SEX_TYPES])
    recorded = int(round(targets.sum() / (1.0 + cal.SEX_TYPE_MULTI_SHARE)))
    porn_w = np.where(cases.is_child, cal.PORNOGRAPHY_CHILD_WEIGHT, 1.0)
    sex_flags = np.zeros((cases.rows, len(cal.SEX_TYPES)), dtype=bool)
    _flag_block(
        cases.rng,
        np.flatnonzero(cases.is_se),
        recorded,
        targets,
        cases.rich,
        lambda k: porn_w if k == 1 else None,
        sex_flags,
    )
    _flag_columns(cal.SEX_TYPES, sex_flags, out)


def _draw_means(cases: _Cases, out: Columns) -> None:
    """4c. Means of control: the sexual-exploitation part first, the rest elsewhere."""
    rows, rng, is_fl, is_se = cases.rows, cases.rng, cases.is_fl, cases.is_se
    means_flags = np.zeros((rows, len(cal.MEANS)), dtype=bool)
    total_recorded = int(round(cal.MEANS_RECORDED_SHARE * rows))
    se_rows = np.flatnonzero(is_se)
    se_recorded = int(round(cal.MEANS_SE_RECORDED_SHARE * se_rows.size))
    se_targets = np.array([int(round(cal.MEANS_SE_FLAG_SHARE[m] * se_recorded)) for m in cal.MEANS])
    _flag_block(rng, se_rows, se_recorded, se_targets, cases.rich, lambda k: None, means_flags)
    rest_targets = np.array([_scaled(cal.FILL_2025[m], rows) for m in cal.MEANS]) - se_targets
    rest_rows = np.flatnonzero(~is_se)
    rest_w = cases.rich * np.where(
        is_fl,
        cal.MEANS_REST_RECORDED_WEIGHT["FL"],
        np.where(cases.is_ot, cal.MEANS_REST_RECORDED_WEIGHT["OT"], cal.MEANS_REST_RECORDED_WEIGHT["none"]),
    )
    labour_w = np.where(is_fl, cal.MEANS_LABOUR_WEIGHT, 1.0)
    _flag_block(
        rng,
        rest_rows,
        total_recorded - se_recorded,
        rest_targets,
        rest_w,
        lambda k: labour_w if cal.MEANS[k] in cal.MEANS_LABOUR_FLAGS else None,
        means_flags,
    )
    _flag_columns(cal.MEANS, means_flags, out)


def _draw_recruiters(cases: _Cases, out: Columns) -> None:
    """4d. Recruiter relation, by exploitation group; children favour family."""
    rows, rng, is_fl, is_se = cases.rows, cases.rng, cases.is_fl, cases.is_se
    rec_flags = np.zeros((rows, len(cal.RECRUITERS)), dtype=bool)
    rec_recorded_w = cases.rich * np.where(cases.is_child, cal.RECRUITER_CHILD_RECORDED_WEIGHT, 1.0)
    family_w = np.where(cases.is_child, cal.RECRUITER_CHILD_FAMILY_WEIGHT, 1.0)

    def rec_class_w(k: int) -> np.ndarray | None:
        return family_w if cal.RECRUITERS[k] == "recruiterRelationFamily" else None

    groups = {"SE": is_se & ~is_fl, "FLSE": is_se & is_fl, "FL": is_fl & ~is_se}
    remaining = np.array([_scaled(cal.FILL_2025[r], rows) for r in cal.RECRUITERS])
    remaining_recorded = int(round(cal.RECRUITER_RECORDED_SHARE * rows))
    for key, mask in groups.items():
        share, flag_share = cal.RECRUITER_GROUPS[key]
        members = np.flatnonzero(mask)
        recorded = int(round(share * members.size))
        targets = np.array([int(round(flag_share[r] * recorded)) for r in cal.RECRUITERS])
        targets = np.minimum(targets, np.maximum(remaining, 0))
        chosen = _flag_block(rng, members, recorded, targets, rec_recorded_w, rec_class_w, rec_flags)
        remaining = remaining - rec_flags[chosen].sum(axis=0)
        remaining_recorded -= chosen.size
    rest_rows = np.flatnonzero(~(is_se | is_fl))
    rest_w = rec_recorded_w * np.where(
        cases.is_ot, cal.RECRUITER_REST_RECORDED_WEIGHT["OT"], cal.RECRUITER_REST_RECORDED_WEIGHT["none"]
    )
    _flag_block(rng, rest_rows, remaining_recorded, remaining, rest_w, rec_class_w, rec_flags)
    _flag_columns(cal.RECRUITERS, rec_flags, out)


def _draw_duration(cases: _Cases, out: Columns) -> None:
    """4e. Duration: which records have one, then the band by exploitation group."""
    rows, is_fl, is_se, is_ot = cases.rows, cases.is_fl, cases.is_se, cases.is_ot
    duration = np.full(rows, "", dtype=object)
    dur_w = (
        cases.rich
        * np.where(cases.coe == "USA", cal.DURATION_USA_WEIGHT, 1.0)
        * np.select(
            [is_fl, is_se, is_ot],
            [
                cal.DURATION_RECORDED_WEIGHT["FL"],
                cal.DURATION_RECORDED_WEIGHT["SE"],
                cal.DURATION_RECORDED_WEIGHT["OT"],
            ],
            cal.DURATION_RECORDED_WEIGHT["none"],
        )
    )
    known = _pick(cases.rng, cases.all_rows, _scaled(cal.FILL_2025["traffickMonths"], rows), dur_w)
    group_masks = {"SE": is_se & ~is_fl, "FLSE": is_se & is_fl, "FL": is_fl & ~is_se, "rest": ~(is_se | is_fl)}
    for key, mask in group_masks.items():
        members = known[mask[known]]
        counts = _largest_remainder(cal.DURATION_SHARE[key], members.size)
        labels = _assign_classes(cases.rng, members, counts, lambda c: None)
        duration[members] = np.array(cal.DURATIONS, dtype=object)[labels]
    out["traffickMonths"] = _codes(duration, ("",) + cal.DURATIONS)


# The steps after the first, in drawing order: each reads what the earlier ones left in _Cases.
_STEPS = (
    _draw_gender,
    _draw_age,
    _draw_citizenship,
    _draw_exploitation,
    _draw_sectors,
    _draw_sex_types,
    _draw_means,
    _draw_recruiters,
    _draw_duration,
)


def _simulate(rows: int, seed: int) -> Columns:
    """Draw ``rows`` records; returns, per column, integer codes and their vocabulary.

    Vocabularies are sorted as strings with "" (empty) first, so code order is string order.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    out: Columns = {}
    cases = _where_and_when(rng, rows, out)
    for step in _STEPS:
        step(cases, out)
    return out


def _origin_distribution(country: str, global_codes: list[str], global_p: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Citizenship distribution for records exploited in ``country`` ("" = unknown)."""
    if country in cal.CITIZENSHIP_ORIGINS:
        same, text = cal.CITIZENSHIP_ORIGINS[country]
        codes, p = cal.parse_weights(text)
    elif country in cal.CITIZENSHIP_CODES:
        same, codes, p = cal.CITIZENSHIP_SAME_DEFAULT, global_codes, global_p
    else:
        same, codes, p = 0.0, global_codes, global_p
    if country not in cal.CITIZENSHIP_CODES:
        same = 0.0
    if same > 0:
        p = np.concatenate([[same], (1.0 - same) * p])
        codes = [country] + list(codes)
    return list(codes), p / p.sum()


def _codes(values: np.ndarray, vocab: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes of string values in a vocabulary sorted as strings ("" first)."""
    vocab = tuple(sorted(set(vocab)))
    arr = np.array(vocab, dtype=object)
    codes = np.searchsorted(arr, values)
    if not np.array_equal(arr[codes], values):
        raise ValueError("value outside its vocabulary")
    return codes.astype(np.int64), vocab


def _flag_codes(mask: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    return mask.astype(np.int64), ("", "1")


def _flag_columns(names: tuple[str, ...], flags: np.ndarray, out: Columns) -> None:
    """One flag column per name from a (rows x names) boolean block."""
    for k, name in enumerate(names):
        out[name] = _flag_codes(flags[:, k])


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def generate_demo_frame(rows: int = cal.REFERENCE_ROWS, seed: int = 0) -> pd.DataFrame:
    """Demonstration records as a DataFrame of strings ("" = empty), sorted like the real file.

    Columns are the 27 published columns in order; rows are sorted lexicographically by all
    columns (so identical rows stand next to each other), index 0..rows-1.
    """
    rows = int(rows)
    if rows < 1:
        raise ValueError("rows must be at least 1")
    coded = _simulate(rows, int(seed))
    order = np.lexsort([coded[c][0] for c in reversed(cal.COLUMNS)])
    data = {}
    for c in cal.COLUMNS:
        codes, vocab = coded[c]
        data[c] = np.array(vocab, dtype=object)[codes[order]]
    return pd.DataFrame(data, columns=list(cal.COLUMNS), dtype=object)


def write_demo_source(path, rows: int = cal.REFERENCE_ROWS, seed: int = 0) -> None:
    """Write ``rows`` demonstration records to ``path`` as UTF-8 CSV in the published format.

    Header line, comma-separated, "\\n" line endings, empty cells for missing values, flags as
    ``1``. The same seed always gives a byte-identical file.
    """
    frame = generate_demo_frame(rows, seed)
    text = frame.to_csv(index=False, lineterminator="\n")
    with open(os.fspath(path), "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
