"""import-release, export-aggregates and info from the command line; every bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import duckdb
import pytest

from data.store import Store
from ops_support import ENGINE, ROOT, run_engine

CTDC_HEADER_2024 = (
    "yearOfRegistration,gender,ageBroad,citizenship,CountryOfExploitation,traffickMonths,"
    "meansDebtBondageEarnings,isForcedLabour,isSexualExploit,typeOfLabourAgriculture,"
    "typeOfSexProstitution,recruiterRelationFamily"
)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


@pytest.fixture
def ctdc_csv(tmp_path):
    return write(
        tmp_path / "ctdc.csv",
        CTDC_HEADER_2024 + "\n"
        "2016,Woman,09--17,UKR,USA,,,,1,,1,1\n"
        "2016,Woman,09--17,UKR,USA,,,,1,,1,1\n"
        "2019,Man,30--38,,RUS,25+ (2+ yrs),1,1,,1,,\n"
        ",,,,,,,,,,,\n"
        "2002,Trans/Transgender/NonConforming,48+,MDA,,0--12 (0-1 yr),1.0,1.0,,,,\n",
    )


def test_import_ctdc_file(ctdc_csv, tmp_path):
    out = tmp_path / "s.duckdb"
    result = run_engine("import-release", "--microdata", ctdc_csv, "--out", out, "--demonstration")
    assert result.returncode == 0, result.stderr
    store = Store(out)
    assert store.count() == 5
    assert store.release["is_demonstration"] and not store.release["has_aggregates"]
    cb = store.codebook
    assert cb["ageBroad"].kind == "ordinal" and cb["ageBroad"].values[:2] == ("0--8", "09--17")
    assert cb["yearOfRegistration"].values == ("2002", "2016", "2019")
    assert cb["citizenship"].kind == "country" and cb["citizenship"].label_of("UKR") == "Ukraine"
    assert cb["isForcedLabour"].group == "exploitation type"
    assert store.count(store.filter({"isForcedLabour": ["1"]})) == 2  # "1.0" read as 1
    assert store.count(store.filter({"gender": [None]})) == 1


def test_later_column_names_get_the_builtin_metadata(tmp_path):
    csv = write(
        tmp_path / "later.csv",
        "yearOfRegistration,sectorOfLabourAgriculture,sectorOfSexPornography\n2020,1,\n2021,,1\n",
    )
    out = tmp_path / "s.duckdb"
    assert run_engine("import-release", "--microdata", csv, "--out", out).returncode == 0
    cb = Store(out).codebook
    assert cb["sectorOfLabourAgriculture"].group == "labour sector"
    assert cb["sectorOfLabourAgriculture"].label == "Agriculture"
    assert cb["sectorOfSexPornography"].kind == "flag"


def test_any_sds_style_csv_infers_kinds_and_order(tmp_path):
    csv = write(
        tmp_path / "other.csv",
        "region,size_band,year,tags,code\nNorth,10-19,2001,a;b,FRA\nSouth,2-9,2003,b,DEU\nNorth,100+,2002,,FRA\n",
    )
    out = tmp_path / "s.duckdb"
    result = run_engine("import-release", "--microdata", csv, "--out", out)
    assert result.returncode == 0, result.stderr
    cb = Store(out).codebook
    assert cb["region"].kind == "categorical"
    assert cb["size_band"].kind == "ordinal" and cb["size_band"].values == ("2-9", "10-19", "100+")
    assert cb["year"].kind == "year" and cb["year"].values == ("2001", "2002", "2003")
    assert cb["code"].kind == "country"
    # a multi-value column becomes one flag per value, grouped under the column
    assert cb["tags_a"].kind == "flag" and cb["tags_b"].group == "tags"
    store = Store(out)
    assert store.count(store.filter({"tags_b": ["1"]})) == 2


def test_aggregates_round_trip_through_export_and_import(ctdc_csv, tmp_path):
    aggregates = write(
        tmp_path / "agg.tsv",
        "selections\tprotected_count\nrecord_count\t6\n"
        "gender:Woman\t3\nageBroad:09--17\t2\ncitizenship:BEL\t11\n"
        "ageBroad:09--17;gender:Woman\t2\n",
    )
    out = tmp_path / "s.duckdb"
    result = run_engine("import-release", "--microdata", ctdc_csv, "--aggregates", aggregates, "--out", out)
    assert result.returncode == 0, result.stderr
    store = Store(out)
    assert store.release["protected_record_count"] == 6 and store.release["reporting_length"] == 2
    assert "BEL" in store.codebook["citizenship"].values  # a value only the aggregates show
    store.close()
    exported = tmp_path / "out.tsv"
    assert run_engine("export-aggregates", "--store", out, "--out", exported).returncode == 0
    lines = exported.read_text().splitlines()
    assert lines[:2] == ["selections\tprotected_count", "record_count\t6"]
    assert lines[2:] == [
        "citizenship:BEL\t11",
        "gender:Woman\t3",
        "ageBroad:09--17\t2",
        "ageBroad:09--17;gender:Woman\t2",
    ]
    again = tmp_path / "again.duckdb"
    done = run_engine("import-release", "--microdata", ctdc_csv, "--aggregates", exported, "--out", again)
    assert done.returncode == 0
    assert _aggregate_rows(out) == _aggregate_rows(again)


def _aggregate_rows(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT key, length, protected_count FROM aggregates ORDER BY key").fetchall()
    finally:
        con.close()


def test_info_json(ctdc_csv, tmp_path):
    out = tmp_path / "s.duckdb"
    run_engine("import-release", "--microdata", ctdc_csv, "--out", out, "--name", "Release X")
    result = run_engine("info", "--store", out, "--json")
    info = json.loads(result.stdout)
    assert info["release"]["name"] == "Release X"
    assert info["tables"]["records"] == 5 and info["attributes"] == 12
    text = run_engine("info", "--store", out).stdout
    assert "Release X" in text and "5 synthetic" in text


BAD_INPUTS = {
    "missing file": (None, "no such file"),
    "not csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "not a CSV file"),
    "no header": ("2016,Woman,09--17\n2017,Man,48+\n", "no header"),
    "duplicate names": ("gender,gender\nWoman,Man\n", "duplicate column names: gender"),
    "empty": ("", "empty"),
    "wrong encoding": ("gender,citizenship\nFemme,CÔTE\n".encode("latin-1"), "not UTF-8"),
    "too many values": (
        "caseId,gender\n" + "".join(f"c{i},Woman\n" for i in range(1200)),
        "'caseId' has 1,200 distinct values",
    ),
    "header only": ("gender,ageBroad\n", "no records"),
    "ragged rows": ("gender,ageBroad\nWoman,09--17,extra,more\n", "not a well-formed CSV"),
}


def test_a_value_outside_the_builtin_domain_is_inferred_with_one_warning(tmp_path):
    # Was refused ("'ageBroad' has value '9 years'"); issue #13: never refused for its value domain.
    csv = write(tmp_path / "in.csv", "gender,ageBroad\nWoman,9 years\nMan,10 years\n")
    out = tmp_path / "s.duckdb"
    result = run_engine("import-release", "--microdata", csv, "--out", out)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "'ageBroad'" in warnings[0] and "'10 years'" in warnings[0]
    cb = Store(out).codebook
    assert cb["ageBroad"].values == ("9 years", "10 years") and cb["ageBroad"].kind == "ordinal"
    assert cb["gender"].values == ("Man", "Woman", "Trans/Transgender/NonConforming")  # fits: built-in


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_microdata_is_one_clear_line_and_writes_nothing(case, tmp_path):
    content, message = BAD_INPUTS[case]
    csv = tmp_path / "in.csv"
    if content is not None:
        write(csv, content)
    out = tmp_path / "s.duckdb"
    result = run_engine("import-release", "--microdata", csv, "--out", out)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == (["in.csv"] if content is not None else [])


@pytest.mark.parametrize(
    "aggregates, message",
    [
        ("selections\tprotected_count\nrecord_count\t6\ngender:Woman\tmany\n", "line 3 does not parse"),
        (
            "selections\tprotected_count\nrecord_count\t6\ngender:Woman\t3\nshoeSize:42\t7\n",
            "line 4 names unknown attribute 'shoeSize'",
        ),
        ("selections\tprotected_count\nrecord_count\t6\ngender:Woman;ageBroad:200\t3\n", "unknown value ageBroad:200"),
        ("key,count\nrecord_count,6\n", "line 1 must be"),
        ("selections\tprotected_count\ngender:Woman\t3\n", "no 'record_count' line"),
    ],
)
def test_bad_aggregates(ctdc_csv, tmp_path, aggregates, message):
    path = write(tmp_path / "agg.tsv", aggregates)
    out = tmp_path / "s.duckdb"
    result = run_engine("import-release", "--microdata", ctdc_csv, "--aggregates", path, "--out", out)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def _writing(folder):
    return any(n.endswith(".tmp") for n in os.listdir(folder))


def _snapshot(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*), min(record_id), max(record_id) FROM records").fetchone(), con.execute(
            "SELECT name FROM release"
        ).fetchone()
    finally:
        con.close()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_an_interrupted_write_leaves_the_old_store(ctdc_csv, tmp_path, how):
    out = tmp_path / "s.duckdb"
    assert run_engine("import-release", "--microdata", ctdc_csv, "--out", out, "--name", "old").returncode == 0
    before = _snapshot(out)
    big = tmp_path / "big.csv"
    row = "2016,Woman,09--17,UKR,USA,,,,1,,1,1\n"
    write(big, CTDC_HEADER_2024 + "\n" + row * 400_000)
    proc = subprocess.Popen(
        [*ENGINE, "import-release", "--microdata", big, "--out", out, "--name", "new"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not _writing(tmp_path):
        time.sleep(0.01)
    assert proc.poll() is None and _writing(tmp_path), f"the writer never started: {proc.stderr.read()[-500:]}"
    proc.send_signal(how)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert _snapshot(out) == before
    store = Store(out)
    assert store.release["name"] == "old" and store.count() == 5
    store.close()
    if how == signal.SIGTERM:  # a clean interruption also removes its temporary file
        assert not [n for n in os.listdir(tmp_path) if ".tmp" in n]


def test_a_failed_check_keeps_the_old_store(ctdc_csv, tmp_path, monkeypatch):
    from data import writer
    from synth_engine.importer import import_release

    out = tmp_path / "s.duckdb"
    import_release(str(ctdc_csv), str(out), name="old")

    def broken(con, records):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "_write_records", broken)
    with pytest.raises(RuntimeError):
        import_release(str(ctdc_csv), str(out), name="new")
    assert Store(out).release["name"] == "old"
    assert sorted(os.listdir(tmp_path)) == ["ctdc.csv", "s.duckdb"]
