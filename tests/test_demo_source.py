"""Acceptance tests of the demonstration source (synth_engine.demo_source).

The full-size file (257,969 rows, seed 0) is written once per module; every test reads it back the
way a loader would (all strings, empty cells as ""). Targets are the 2025 release's figures and
CTDC's published shares, written out here independently of the module's calibration tables.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_engine.demo_source import coe_year_table, generate_demo_frame, write_demo_source

ROWS = 257_969

EXPECTED_COLUMNS = [
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "meansDebtBondageEarnings",
    "meansThreats",
    "meansAbusePsyPhySex",
    "meansFalsePromises",
    "meansDrugsAlcohol",
    "meansDenyBasicNeeds",
    "meansExcessiveWorkHours",
    "meansWithholdDocs",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
]
MEANS = EXPECTED_COLUMNS[6:14]
EXPLOIT = EXPECTED_COLUMNS[14:17]
SECTORS = EXPECTED_COLUMNS[17:21]
SEX_TYPES = EXPECTED_COLUMNS[21:23]
RECRUITERS = EXPECTED_COLUMNS[23:27]

# Non-empty cells per column, 2025 release.
FILL_2025 = dict(
    zip(
        EXPECTED_COLUMNS,
        [
            222751,
            205148,
            137139,
            126643,
            202006,
            23512,
            38725,
            46655,
            57647,
            27375,
            12890,
            48072,
            25280,
            19918,
            62821,
            99618,
            12964,
            9564,
            5445,
            10947,
            3703,
            39406,
            6684,
            8831,
            7401,
            10701,
            40273,
        ],
    )
)

AGES = ["0--8", "09--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+"]
CHILD_AGES = ["0--8", "09--17"]
DURATIONS = ["0--12 (0-1 yr)", "13--24 (1-2 yrs)", "25+ (2+ yrs)"]
CITIZENSHIP_CODES = set(
    """
AFG ALB BDI BGD BGR BLR BOL BRA CHN CIV COD COL DOM ERI ETH GHA GTM HND HTI HUN IDN IND JAM KAZ
KEN KGZ KHM KOR LAO LKA MDA MDG MEX MMR NER NGA NPL PHL ROU RUS SDN SLE SLV SOM SRB THA TJK TKM
UGA UKR USA UZB VEN VNM""".split()
)
EXPLOITATION_CODES = set(
    """
AFG ALB ARE ARG BDI BGD BGR BIH BLR CAN CHE CHN CIV CZE DEU DNK EGY ESP ETH GBR GHA GRC HKG HTI
IDN IND IRQ ITA JOR JPN KAZ KEN KGZ KHM KWT LBN LBY MAR MDA MEX MKD MLI MYS NER NGA NLD OMN PHL
POL PRT QAT ROU RUS SAU SDN SEN SLE SRB SWE THA TJK TUN TUR UGA UKR USA UZB ZAF
COL MMR VNM""".split()
)

REFERENCE_DIR = Path(os.environ.get("CTDC_REFERENCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "reference"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    started = time.perf_counter()
    write_demo_source(path, rows=ROWS, seed=0)
    seconds = time.perf_counter() - started
    raw = path.read_bytes()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {"path": path, "raw": raw, "df": frame, "seconds": seconds}


@pytest.fixture(scope="module")
def df(demo):
    return demo["df"]


def has(df, column):
    return (df[column] != "").to_numpy()


def any_of(df, columns):
    return np.logical_or.reduce([has(df, c) for c in columns])


def pct(numerator, denominator):
    """Percentage of the denominator's records that are also in the numerator."""
    denominator = np.asarray(denominator, dtype=bool)
    both = np.asarray(numerator, dtype=bool) & denominator
    return 100.0 * np.count_nonzero(both) / np.count_nonzero(denominator)


# --- format ----------------------------------------------------------------------------------


def test_header_and_columns(demo):
    first_line = demo["raw"].split(b"\n", 1)[0].decode("utf-8")
    assert first_line.split(",") == EXPECTED_COLUMNS
    assert list(demo["df"].columns) == EXPECTED_COLUMNS
    assert len(demo["df"]) == ROWS


def test_plain_utf8_csv_with_newline_endings(demo):
    raw = demo["raw"]
    text = raw.decode("utf-8")
    assert b"\r" not in raw
    assert text.endswith("\n") and not text.endswith("\n\n")
    lines = text[:-1].split("\n")
    assert len(lines) == ROWS + 1
    assert all(line.count(",") == 26 for line in lines)
    assert '"' not in text


def test_values_are_in_the_published_domains(df):
    def values(column):
        return set(df[column].unique())

    years = values("yearOfRegistration") - {""}
    assert all(len(y) == 4 and y.isdigit() and 2002 <= int(y) <= 2023 for y in years)
    assert values("gender") <= {"", "Man", "Woman", "Trans/Transgender/NonConforming"}
    assert values("ageBroad") <= set(AGES) | {""}
    assert values("citizenship") <= CITIZENSHIP_CODES | {""}
    assert values("CountryOfExploitation") <= EXPLOITATION_CODES | {""}
    assert values("traffickMonths") <= set(DURATIONS) | {""}
    for column in EXPECTED_COLUMNS[6:]:
        assert values(column) == {"", "1"}, column


def test_rows_are_sorted_by_all_columns(df):
    # rank each column's strings ("" lowest), then every row must not come after the next one:
    # the first column where two neighbours differ must increase
    ranks = np.column_stack(
        [np.unique(df[c].to_numpy(dtype=object), return_inverse=True)[1].ravel() for c in EXPECTED_COLUMNS]
    )
    step = np.diff(ranks, axis=0)
    changed = step != 0
    first = np.argmax(changed, axis=1)
    first_step = step[np.arange(len(step)), first]
    assert np.all(first_step >= 0)
    assert np.count_nonzero(~changed.any(axis=1)) > 0  # identical rows stand together


# --- calibration against the 2025 file ---------------------------------------------------------


@pytest.mark.parametrize("column", EXPECTED_COLUMNS)
def test_fill_counts_within_two_percent(df, column):
    target = FILL_2025[column]
    actual = int(has(df, column).sum())
    assert abs(actual - target) <= 0.02 * target, (column, actual, target)


def test_embedded_reference_table_matches_the_release():
    table = coe_year_table()
    assert int(table.to_numpy().sum()) == ROWS
    assert int(table.loc["USA"].sum()) == 116_448
    assert int(table.loc[""].sum()) == 55_963
    assert int(table[""].sum()) == 35_218
    assert set(table.index) - {""} == EXPLOITATION_CODES
    reference = REFERENCE_DIR / "ctdc-2025-country-of-exploitation-by-year.csv"
    if not reference.exists():
        pytest.skip("reference CSV not available")
    ref = pd.read_csv(reference, keep_default_na=False, dtype=str).iloc[:-1]  # drop Total row
    for _, line in ref.iterrows():
        country = "" if line["Country"] == "NA" else line["Country"]
        for year in table.columns:
            assert int(line[year or "NA"]) == int(table.loc[country, year]), (country, year)


def test_country_by_year_largest_cells_within_five_percent(df):
    table = coe_year_table()
    actual = df.groupby(["CountryOfExploitation", "yearOfRegistration"]).size()
    cells = table.stack().sort_values(ascending=False).head(50)
    for (country, year), expected in cells.items():
        got = int(actual.get((country, year), 0))
        where = (country or "NA", year or "NA")
        assert abs(got - expected) <= 0.05 * expected, (where, got, expected)


# --- published shares (within 3 percentage points) ---------------------------------------------


def test_gender_and_age_shares(df):
    gender, age = df["gender"], df["ageBroad"]
    assert abs(pct(gender == "Woman", gender != "") - 74) <= 3
    known_age = age != ""
    assert abs(pct(age.isin(["18--20", "21--23", "24--26", "27--29"]), known_age) - 43) <= 3
    assert abs(pct(age.isin(CHILD_AGES), known_age) - 24) <= 3


def test_type_of_exploitation_shares(df):
    typed = any_of(df, EXPLOIT)
    assert abs(pct(has(df, "isSexualExploit"), typed) - 61) <= 3
    assert abs(pct(has(df, "isForcedLabour"), typed) - 37) <= 3


def test_sector_shares_within_forced_labour(df):
    with_sector = any_of(df, SECTORS) & has(df, "isForcedLabour")
    for column, published in zip(
        ["typeOfLabourDomesticWork", "typeOfLabourAgriculture", "typeOfLabourConstruction", "typeOfLabourHospitality"],
        [37, 33, 19, 12],
    ):
        assert abs(pct(has(df, column), with_sector) - published) <= 3, column


def test_sex_type_shares_within_sexual_exploitation(df):
    with_type = any_of(df, SEX_TYPES) & has(df, "isSexualExploit")
    assert abs(pct(has(df, "typeOfSexProstitution"), with_type) - 86) <= 3
    assert abs(pct(has(df, "typeOfSexPornography"), with_type) - 14) <= 3


def test_recruiter_relation_by_exploitation_type(df):
    with_recruiter = any_of(df, RECRUITERS)
    fl = with_recruiter & has(df, "isForcedLabour")
    assert abs(pct(has(df, "recruiterRelationOther"), fl) - 81) <= 3
    se = with_recruiter & has(df, "isSexualExploit")
    close = any_of(df, ["recruiterRelationIntimatePartner", "recruiterRelationFriend", "recruiterRelationFamily"])
    assert abs(pct(close, se) - 62) <= 3


def test_more_than_two_years_by_exploitation_type(df):
    known = df["traffickMonths"] != ""
    long = df["traffickMonths"] == "25+ (2+ yrs)"
    assert abs(pct(long, known & has(df, "isForcedLabour")) - 33) <= 3
    assert abs(pct(long, known & has(df, "isSexualExploit")) - 26) <= 3


def test_means_of_control_in_sexual_exploitation(df):
    with_means = any_of(df, MEANS) & has(df, "isSexualExploit")
    assert abs(pct(has(df, "meansAbusePsyPhySex"), with_means) - 62) <= 3
    assert abs(pct(has(df, "meansThreats"), with_means) - 38) <= 3
    assert abs(pct(has(df, "meansDenyBasicNeeds"), with_means) - 37) <= 3


# --- the logic of real records ----------------------------------------------------------------


def test_sector_only_with_forced_labour_and_sex_type_only_with_sexual_exploitation(df):
    assert not np.any(any_of(df, SECTORS) & ~has(df, "isForcedLabour"))
    assert not np.any(any_of(df, SEX_TYPES) & ~has(df, "isSexualExploit"))


def test_children_recruited_by_family_more_often_than_adults(df):
    with_recruiter = any_of(df, RECRUITERS)
    child = df["ageBroad"].isin(CHILD_AGES).to_numpy()
    adult = (df["ageBroad"] != "").to_numpy() & ~child
    family = has(df, "recruiterRelationFamily")
    assert pct(family, with_recruiter & child) > pct(family, with_recruiter & adult) + 10


def test_sparse_rows_like_the_release(df):
    # 2024 missing shares; exploitation is allowed further off (the 2025 fills decide it,
    # see the module docstring).
    assert abs(100 - 100 * any_of(df, MEANS).mean() - 62) <= 3
    assert abs(100 - 100 * any_of(df, EXPLOIT).mean() - 32) <= 5
    assert abs(100 - 100 * any_of(df, RECRUITERS).mean() - 74) <= 3
    assert abs(100 * (df["traffickMonths"] == "").mean() - 91) <= 3
    both_empty = (df["citizenship"] == "") & (df["CountryOfExploitation"] == "")
    assert abs(100 * both_empty.mean() - 6) <= 3
    # a good part of the file is rows with almost nothing recorded
    recorded_per_row = (df != "").sum(axis=1)
    assert (recorded_per_row <= 3).mean() > 0.15


def test_about_three_quarters_of_minors_have_no_recruiter(df):
    child = df["ageBroad"].isin(CHILD_AGES).to_numpy()
    assert abs(pct(~any_of(df, RECRUITERS), child) - 75) <= 5


def test_citizenship_follows_country_of_exploitation(df):
    usa = (df["CountryOfExploitation"] == "USA").to_numpy()
    assert pct(df["citizenship"] == "", usa) > 70
    both = df[(df["citizenship"] != "") & (df["CountryOfExploitation"] != "")]
    per_destination = both.groupby("CountryOfExploitation")["citizenship"].value_counts()
    top_five = per_destination.groupby(level=0).apply(lambda s: s.nlargest(5).sum()).sum()
    assert top_five / len(both) > 0.8
    assert (both["citizenship"] == both["CountryOfExploitation"]).mean() > 0.3


# --- reproducibility and speed ----------------------------------------------------------------


def test_same_seed_gives_identical_bytes(demo, tmp_path):
    again = tmp_path / "again.csv"
    write_demo_source(again, rows=ROWS, seed=0)
    assert again.read_bytes() == demo["raw"]


def test_different_seeds_differ(demo, tmp_path):
    other = tmp_path / "other.csv"
    write_demo_source(str(other), rows=ROWS, seed=1)
    assert other.read_bytes() != demo["raw"]


def test_full_size_file_is_written_in_seconds(demo):
    assert demo["seconds"] < 10


def test_small_files_keep_the_format():
    small = generate_demo_frame(500, 7)
    assert list(small.columns) == EXPECTED_COLUMNS
    assert len(small) == 500
    assert set(small["isForcedLabour"]) <= {"", "1"}
    assert not np.any(any_of(small, SECTORS) & ~has(small, "isForcedLabour"))
    assert abs(int(has(small, "isSexualExploit").sum()) - 99618 * 500 / ROWS) <= 2
