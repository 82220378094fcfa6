"""The offline build end to end: `python -m synth_engine build`, what the store holds (and must not
hold), the private report, an interrupted build, and bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from data.dataset import Dataset, InputError, load_csv
from ops_support import ENGINE, ROOT, run_engine
from synth_engine import __version__, pipeline
from synth_engine.__main__ import build_settings, main, parser
from synth_engine.evaluate import PUBLIC_COMPARISON, aggregate_counts, count_combinations, evaluate
from synth_engine.privacy import PrivacySettings


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """2,917 demonstration records (stand-ins, not real people), all 27 columns."""
    from synth_engine.demo_source import write_demo_source

    path = tmp_path_factory.mktemp("source") / "cases-2917.csv"
    write_demo_source(path, rows=2917, seed=11)
    return str(path)


@pytest.fixture(scope="module")
def larger_source(tmp_path_factory):
    from synth_engine.demo_source import write_demo_source

    path = tmp_path_factory.mktemp("larger") / "cases-20000.csv"
    write_demo_source(path, rows=20_000, seed=12)
    return str(path)


def _settings(*argv):
    return build_settings(parser().parse_args(["build", *argv]))


@pytest.fixture(scope="module")
def built(source, tmp_path_factory):
    """A build through the pipeline's own function, seeded so that the protected record count
    differs from the true one (so the true count can be looked for in the store)."""
    folder = tmp_path_factory.mktemp("built")
    true_n = load_csv(source).n_records
    for seed in range(1, 20):
        out = folder / f"store-{seed}.duckdb"
        report = folder / f"report-{seed}.json"
        settings = _settings(
            "--input",
            source,
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--private-report",
            str(report),
            "--name",
            "Test release",
            "--demonstration",
            "--delta",
            "3.9e-7",
        )
        result = pipeline.build(settings, show_progress=False)
        if result.aggregates.record_count != true_n:
            return result, str(out), str(report), settings
    pytest.fail("the protected record count always equalled the true one")


def _tables(path):
    con = duckdb.connect(path, read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {name: con.execute(f'SELECT * FROM "{name}"').fetchdf() for name in names}
    finally:
        con.close()


def test_build_writes_the_release(built, source):
    result, out, _, _ = built
    tables = _tables(out)
    release = tables["release"].iloc[0]
    assert release["kind"] == "built"
    assert release["name"] == "Test release"
    assert release["source"] == os.path.basename(source)
    assert bool(release["is_demonstration"]) is True
    assert release["engine_version"] == __version__
    assert release["epsilon"] == pytest.approx(12.0)
    assert release["delta"] == pytest.approx(3.9e-7)
    assert release["reporting_length"] == 3
    assert release["protected_record_count"] == result.aggregates.record_count
    assert release["synthetic_record_count"] == len(tables["records"]) == result.aggregates.record_count
    assert release["synthesizer"] == "default"
    assert release["seed"] == int(built[3].seed)
    parameters = json.loads(release["parameters"])
    assert parameters["synthesizer"] == "default"
    assert parameters["synthesizer_settings"] == result.synthesis.settings
    assert parameters["epsilon"] == pytest.approx(12.0) and parameters["rho"] > 0
    lengths = tables["release_lengths"].sort_values("length")
    assert lengths["length"].tolist() == [1, 2, 3]
    assert lengths["combinations"].tolist() == [len(result.aggregates.combos[k]) for k in (1, 2, 3)]
    assert lengths["sensitivity"].tolist() == [p.sensitivity for p in result.aggregates.lengths]


def test_the_store_holds_no_figure_from_the_sensitive_records(built, source):
    result, out, report_path, _ = built
    sensitive = load_csv(source)
    true_n = sensitive.n_records
    tables = _tables(out)
    # 1. the true record count appears nowhere (ordinal ids aside), as a number or in a text
    ordinal = {
        ("records", "record_id"),
        ("aggregates", "combo_id"),
        ("aggregate_items", "combo_id"),
        ("codebook", "position"),
        ("codebook_values", "position"),
    }
    for name, frame in tables.items():
        for column in frame.columns:
            if (name, column) in ordinal:
                continue
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values):
                assert not (values.astype(float) == true_n).any(), f"{name}.{column} holds {true_n}"
            else:
                texts = values.dropna().astype(str)
                assert not texts.str.contains(rf"(?<![\d.]){true_n}(?![\d.])", regex=True).any(), (
                    f"{name}.{column} mentions {true_n}"
                )
    # 2. the combination counts are the protected ones, not the true ones
    stored = dict(zip(tables["aggregates"]["key"], tables["aggregates"]["protected_count"]))
    assert stored == result.aggregates.as_dict()
    true = count_combinations(sensitive.codes, result.aggregates.items, 3)
    protected = aggregate_counts(result.aggregates)
    differs = 0
    for k in (1, 2, 3):
        t = true.lookup(k, protected.keys[k])
        differs += int((t != protected.counts[k]).sum())
    assert differs > 0.5 * protected.total()  # the noise shows: these are not true counts
    # 3. quality compares the synthetic records with the protected counts only, and is exactly
    #    what those two public things give
    quality = tables["quality"]
    assert set(quality["comparison"]) == {PUBLIC_COMPARISON}
    synthetic = tables["records"].drop(columns="record_id")
    codes = np.column_stack(
        [
            pd.Categorical(synthetic[a.name].astype(object), categories=list(a.values)).codes + 1
            for a in sensitive.codebook
        ]
    ).astype(np.uint16)
    expected = evaluate(codes, result.aggregates)
    got = {
        (
            r.metric,
            None if pd.isna(r.length) else int(r.length),
            None if pd.isna(r.bucket_low) else int(r.bucket_low),
        ): r.value
        for r in quality.itertuples()
    }
    assert len(got) == len(expected.quality)
    for q in expected.quality:
        assert got[(q.metric, q.length, q.bucket_low)] == pytest.approx(q.value, rel=1e-12, abs=1e-12)
    deviations = tables["quality_deviations"].sort_values("rank")
    assert list(deviations["key"]) == [d.key for d in expected.deviations]
    assert list(deviations["reference_count"]) == [d.reference_count for d in expected.deviations]
    # 4. the private report has the comparisons with the true records, and none of its figures
    #    that involve them is in the store
    with open(report_path, encoding="utf-8") as fh:
        report = json.load(fh)
    assert report["true_records"] == true_n
    assert {"protected_vs_true", "synthetic_vs_true", "synthetic_vs_protected"} <= set(report)
    private_values = set()
    for part in ("protected_vs_true", "synthetic_vs_true"):
        for figures in report[part]["lengths"].values():
            # what only the true records give (the compared side of these comparisons is public)
            # (whole numbers such as numbers of combinations can meet a public one by chance, and
            # so can the share within the noise and the largest |z|: a whole number of
            # combinations over the public number measured, a whole difference over the public
            # noise sd; a synthesizer that fits closely makes such small ratios meet often)
            for metric in ("mean_abs_z", "mean_relative_error"):
                value = float(figures[metric])
                if value != round(value):
                    private_values.add(value)
    assert not private_values & set(quality["value"].astype(float))


def test_a_build_without_seed_records_none(source, tmp_path):
    out = tmp_path / "unseeded.duckdb"
    assert main(["build", "--input", source, "--out", str(out), "--synthesizer", "sds"]) == 0
    release = _tables(str(out))["release"].iloc[0]
    assert pd.isna(release["seed"])
    assert release["synthesizer"] == "sds"
    assert bool(release["is_demonstration"]) is False
    assert release["name"] == "cases-2917"


def test_seeded_builds_are_identical(source, tmp_path):
    stores = []
    for i in range(2):
        out = tmp_path / f"same-{i}.duckdb"
        assert main(["build", "--input", source, "--out", str(out), "--seed", "5"]) == 0
        stores.append(_tables(str(out)))
    for name in ("records", "aggregates", "quality", "quality_deviations", "release_lengths"):
        pd.testing.assert_frame_equal(stores[0][name], stores[1][name])


def test_build_flags_become_settings():
    settings = _settings(
        "--input",
        "in.csv",
        "--out",
        "out.duckdb",
        "--seed",
        "3",
        "--synthesizer",
        "sds",
        "--private-report",
        "report.json",
        "--name",
        "N",
        "--demonstration",
        "--epsilon",
        "4",
        "--fabrication-mode",
        "minimize",
    )
    assert settings == pipeline.BuildSettings(
        input="in.csv",
        out="out.duckdb",
        seed=3,
        synthesizer="sds",
        private_report="report.json",
        name="N",
        demonstration=True,
        privacy=PrivacySettings(epsilon=4, fabrication_mode="minimize"),
    )
    assert _settings("--input", "in.csv", "--out", "out.duckdb") == pipeline.BuildSettings("in.csv", "out.duckdb")


@pytest.mark.parametrize("case", ["no folder", "same file"])
def test_build_checks_its_outputs_before_any_work(case, tmp_path):
    out = tmp_path / "out.duckdb"
    if case == "no folder":
        settings = pipeline.BuildSettings(input=str(tmp_path / "unread.csv"), out=str(tmp_path / "no" / "out.duckdb"))
    else:
        settings = pipeline.BuildSettings(input=str(tmp_path / "unread.csv"), out=str(out), private_report=str(out))
    with pytest.raises(InputError, match="does not exist" if case == "no folder" else "same file"):
        pipeline.build(settings, show_progress=False)
    assert os.listdir(tmp_path) == []


def test_stages_run_alone(source):
    dataset = pipeline.load(source)
    pipeline.validate(dataset, 3)
    with pytest.raises(InputError):
        pipeline.validate(dataset, 99)
    with pytest.raises(InputError):
        pipeline.validate(Dataset(dataset.codebook, np.zeros_like(dataset.codes)), 3)
    settings = _settings("--input", source, "--out", "unused.duckdb")
    rng = pipeline.make_rng(4)
    aggregates = pipeline.aggregate(dataset, settings.privacy, rng)
    synthesis = pipeline.synthesize(aggregates, "default", rng)
    evaluation = pipeline.evaluate(synthesis.codes, aggregates)
    assert evaluation.private is None and evaluation.quality
    assert pipeline.make_rng(None).integers(1 << 62) != pipeline.make_rng(None).integers(1 << 62)


@pytest.mark.parametrize("case", ["missing file", "not csv", "bad epsilon", "no folder"])
def test_bad_input_exits_with_one_line(case, tmp_path, source):
    out = tmp_path / "out.duckdb"
    if case == "missing file":
        argv = ["--input", str(tmp_path / "nope.csv"), "--out", str(out)]
    elif case == "not csv":
        bad = tmp_path / "bad.csv"
        bad.write_bytes(b"\x00\x01\x02 binary")
        argv = ["--input", str(bad), "--out", str(out)]
    elif case == "bad epsilon":
        argv = ["--input", source, "--out", str(out), "--epsilon", "-1"]
    else:
        argv = ["--input", source, "--out", str(tmp_path / "no" / "such" / "out.duckdb")]
    done = run_engine("build", *argv, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert not out.exists()


def test_an_interrupted_build_leaves_the_old_store(source, larger_source, tmp_path):
    folder = tmp_path / "stores"
    folder.mkdir()
    out = folder / "release.duckdb"
    assert main(["build", "--input", source, "--out", str(out), "--seed", "1", "--name", "Old"]) == 0
    before = _tables(str(out))
    env = dict(os.environ, GSD_PROGRESS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [*ENGINE, "build", "--input", larger_source, "--out", str(out), "--seed", "2", "--name", "New"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while b"synthesize" not in seen and time.monotonic() < deadline:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
        assert b"synthesize" in seen, seen.decode(errors="replace")
        time.sleep(0.5)
        assert proc.poll() is None, "the build ended before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    after = _tables(str(out))
    for name in ("release", "records", "aggregates", "quality"):
        pd.testing.assert_frame_equal(before[name], after[name])
    assert after["release"].iloc[0]["name"] == "Old"
    assert sorted(os.listdir(folder)) == ["release.duckdb"]
