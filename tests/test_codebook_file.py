"""The codebook as data (#13): releases of other schemas, the built-in CTDC codebook applied only
where values fit, codebook files (Data Package descriptors) read, written and read back, bad ones
refused in one line, and the release metadata from descriptor or flags to the store and data card."""

from __future__ import annotations

import json
import os

import duckdb
import pytest

import i18n
from data import exports
from data.codebook_file import builtin_codebook_file
from data.errors import InputError
from data.release_meta import ReleaseMetadata, release_texts
from data.store import Filter, Store
from foreign_releases import write_release
from ops_support import run_engine
from synth_engine.importer import import_release

METADATA_FLAGS = [
    "--title",
    "Victims and perpetrators 2025",
    "--publisher",
    "Example Observatory",
    "--source-url",
    "https://example.org/data",
    "--licence",
    "CC-BY-4.0",
    "--citation",
    "Example Observatory (2025), Victims and perpetrators.",
    "--release-date",
    "2025-03-01",
    "--release-version",
    "2.1",
]
METADATA_KEYS = ("title", "publisher", "source_url", "licence", "citation", "release_date", "version")


@pytest.fixture(scope="module")
def perpetrators(tmp_path_factory):
    """A victim-perpetrator release with aggregates, imported with its metadata flags."""
    folder = tmp_path_factory.mktemp("perp")
    paths = write_release(folder, "victim_perpetrator", rows=400, seed=3, with_aggregates=True)
    out = folder / "s.duckdb"
    result = run_engine(
        "import-release",
        "--microdata",
        paths["microdata"],
        "--aggregates",
        paths["aggregates"],
        "--out",
        out,
        *METADATA_FLAGS,
    )
    assert result.returncode == 0, result.stderr
    return folder, paths, str(out), result.stderr


def test_ctdc_names_with_other_value_domains_are_inferred_with_one_warning_each(perpetrators):
    _, _, out, stderr = perpetrators
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "'gender'" in warnings[0] and "'Female'" in warnings[0]
    assert "'ageBroad'" in warnings[1] and "'0-29'" in warnings[1]
    cb = Store(out).codebook
    assert cb["gender"].values == ("Female", "Male") and cb["gender"].kind == "categorical"
    assert cb["ageBroad"].values == ("0-29", "30+") and cb["ageBroad"].kind == "ordinal"
    # columns whose values fit keep the built-in metadata
    assert cb["citizenship"].kind == "country" and cb["citizenship"].label_of("PHL") == "Philippines"
    assert cb["isForcedLabour"].group == "exploitation type" and cb["isForcedLabour"].label_of("1") == "Yes"


def test_multi_values_year_bands_movements_and_parties(perpetrators):
    cb = Store(perpetrators[2]).codebook
    flags = cb.groups()["perpetratorGender"]
    assert [a.label for a in flags] == ["Female", "Male", "Unknown"]
    assert {a.group_label for a in flags} == {"Perpetrator gender"}
    assert all(a.kind == "flag" and a.label_of("1") == "Yes" and a.party == "perpetrator" for a in flags)
    assert "perpetratorGender" in cb.flag_groups()
    period = cb["registrationPeriod"]
    assert period.group == "time" and period.values == ("2010-2014", "2015-2019", "2020-2024")
    assert [(o.name, d.name) for o, d in cb.flows()] == [("regionOfOrigin", "regionOfExploitation")]
    assert cb.parties() == ["victim", "perpetrator"]
    markdown = exports.codebook_markdown(cb, {"name": "x"})
    assert "## Perpetrator gender" in markdown and "### `perpetratorGender_Male` — Male" in markdown


def test_aggregates_of_a_foreign_release(perpetrators):
    _, paths, out, _ = perpetrators
    store = Store(out)
    assert store.release["has_aggregates"] and store.release["reporting_length"] == 2
    lines = dict(line.split("\t") for line in open(paths["aggregates"]).read().splitlines()[2:])
    key = "perpetratorGender_Female:1;regionOfOrigin:Asia"
    assert store.protected_count({"perpetratorGender_Female": "1", "regionOfOrigin": "Asia"}) == int(lines[key])


def test_release_metadata_reaches_the_store_and_the_data_card(perpetrators):
    store = Store(perpetrators[2])
    release = store.release
    assert release["name"] == release["title"] == "Victims and perpetrators 2025"
    assert (
        release["publisher"],
        release["source_url"],
        release["licence"],
        release["release_date"],
        release["version"],
    ) == ("Example Observatory", "https://example.org/data", "CC-BY-4.0", "2025-03-01", "2.1")
    card = json.loads(exports.data_card(release, [], [], store.codebook))["release"]
    assert card["citation"] == "Example Observatory (2025), Victims and perpetrators." and card["version"] == "2.1"
    texts = release_texts(release)
    assert texts["heading"] == "Victims and perpetrators 2025"
    assert texts["subtitle"] == "Example Observatory · version 2.1 · 2025-03-01"
    assert texts["credit"] == "Cite as: Example Observatory (2025), Victims and perpetrators."
    assert exports.filename(release, "codebook", "md") == "victims-and-perpetrators-2025-codebook.md"


def test_nothing_names_ctdc_unless_the_release_does(tmp_path):
    paths = write_release(tmp_path, "regions", rows=200, seed=1)
    out = tmp_path / "s.duckdb"
    import_release(paths["microdata"], str(out))
    store = Store(out)
    texts = release_texts(store.release)
    assert texts["credit"] is None and texts["heading"] == "regions"
    documents = [
        exports.codebook_markdown(store.codebook, store.release),
        exports.codebook_datapackage(store.codebook, store.release),
        exports.data_card(store.release, [], [], store.codebook),
        json.dumps(texts),
    ]
    assert not any("CTDC" in d or "Counter Trafficking" in d for d in documents)
    cb = store.codebook
    assert cb["hasChildren"].label == "Has children" and cb["hasChildren"].label_of("1") == "Yes"
    assert cb["survivorAge"].values == ("0-17", "18-24", "25-34", "35-49", "50+")
    assert cb["survivorAge"].party == "victim" and cb["year"].kind == "year"
    assert [(o.name, d.name) for o, d in cb.flows()] == [("originRegion", "destinationRegion")]


def _export(store_path, folder):
    """The store's microdata.csv and datapackage.json downloads, written to `folder`."""
    store = Store(store_path)
    names = store.codebook.names
    microdata = os.path.join(folder, exports.filename(store.release, "microdata", "csv"))
    with open(microdata, "wb") as fh:
        for chunk in exports.csv_stream(store.record_batches(Filter(), names), names):
            fh.write(chunk)
    descriptor = os.path.join(folder, "datapackage.json")
    with open(descriptor, "w", encoding="utf-8") as fh:
        fh.write(exports.codebook_datapackage(store.codebook, store.release))
    return microdata, descriptor


def test_the_codebook_round_trips_through_datapackage_json(perpetrators, tmp_path):
    from frictionless import Package

    _, paths, out, _ = perpetrators
    microdata, descriptor = _export(out, tmp_path)
    document = json.load(open(descriptor))
    assert Package.validate_descriptor(document).valid
    assert document["resources"][0]["path"] == os.path.basename(microdata)
    again = tmp_path / "again.duckdb"
    result = run_engine(
        "import-release",
        "--microdata",
        microdata,
        "--aggregates",
        paths["aggregates"],
        "--codebook",
        descriptor,
        "--out",
        again,
    )
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    before, after = Store(out), Store(again)
    assert after.codebook == before.codebook
    assert {k: after.release[k] for k in METADATA_KEYS} == {k: before.release[k] for k in METADATA_KEYS}
    assert after.count(after.filter({"perpetratorGender_Male": ["1"]})) == before.count(
        before.filter({"perpetratorGender_Male": ["1"]})
    )


def test_a_descriptor_describes_a_raw_file_and_flags_override_it(tmp_path):
    paths = write_release(tmp_path, "victim_perpetrator", rows=120, seed=5)
    descriptor = {
        "name": "vp",
        "title": "From the descriptor",
        "version": "1",
        "contributors": [{"title": "Descriptor Publisher", "roles": ["publisher"]}],
        "gsd:groups": [{"name": "perpetratorGender", "title": "Perpetrators' genders"}],
        "resources": [
            {
                "name": "records",
                "path": "vp.csv",
                "schema": {
                    "fields": [
                        {
                            "name": "gender",
                            "type": "string",
                            "title": "Victim's gender",
                            "gsd:party": "victim",
                            "categories": [
                                {"value": "Male", "label": "Man or boy"},
                                {"value": "Female", "label": "Woman or girl"},
                            ],
                        },
                        {
                            "name": "ageBroad",
                            "type": "string",
                            "categories": ["0-29", "30+"],
                            "categoriesOrdered": True,
                        },
                        {
                            "name": "perpetratorGender_Female",
                            "type": "integer",
                            "title": "Female perpetrator",
                            "gsd:kind": "flag",
                            "gsd:group": "perpetratorGender",
                            "categories": [1],
                        },
                    ]
                },
            }
        ],
    }
    path = tmp_path / "datapackage.json"
    path.write_text(json.dumps(descriptor))
    out = tmp_path / "s.duckdb"
    lines = []
    import_release(
        paths["microdata"], str(out), codebook=str(path), warn=lines.append, metadata=ReleaseMetadata(version="2")
    )
    assert lines == []
    store = Store(out)
    cb = store.codebook
    assert cb["gender"].values == ("Male", "Female") and cb["gender"].label_of("Female") == "Woman or girl"
    assert cb["gender"].label == "Victim's gender" and cb["ageBroad"].kind == "ordinal"
    assert cb["perpetratorGender_Female"].label == "Female perpetrator"
    assert cb["perpetratorGender_Male"].label == "Male"  # not described: the value names it
    assert {cb[n].group_label for n in ("perpetratorGender_Female", "perpetratorGender_Male")} == {
        "Perpetrators' genders"
    }
    assert (store.release["title"], store.release["publisher"], store.release["version"]) == (
        "From the descriptor",
        "Descriptor Publisher",
        "2",
    )


def _field(name, **extra):
    return {"name": name, "type": "string", **extra}


def _descriptor(*fields, **package):
    return {
        "name": "x",
        **package,
        "resources": [{"name": "records", "path": "x.csv", "schema": {"fields": list(fields)}}],
    }


BAD_CODEBOOKS = {
    "unknown field": (_descriptor(_field("gender"), _field("shoeSize")), "field 'shoeSize' is not a column of"),
    "duplicate category": (
        _descriptor(_field("gender", categories=["Female", "Male", "Female"])),
        "field 'gender': category 'Female' is listed twice",
    ),
    "values the labels miss": (
        _descriptor(_field("gender", categories=[{"value": "Female", "label": "F"}])),
        "column 'gender' does not fit its field 'gender': value 'Male' is not one of Female",
    ),
    "one label twice": (
        _descriptor(_field("gender", categories=[{"value": "Female", "label": "F"}, {"value": "Male", "label": "F"}])),
        "the label 'F' is given to more than one category",
    ),
    "label not text": (
        _descriptor(_field("gender", categories=[{"value": "Female", "label": 7}, "Male"])),
        "the label of category 'Female' is not text",
    ),
    "unknown kind": (_descriptor(_field("gender", **{"gsd:kind": "colour"})), "kind 'colour' is not one of"),
    "flag of two values": (
        _descriptor(_field("gender", categories=["Female", "Male"], **{"gsd:kind": "flag"})),
        "a flag has one category",
    ),
    "field without a name": (_descriptor({"type": "string"}), "not a valid Data Package descriptor"),
    "bad release date": (
        _descriptor(_field("gender"), **{"gsd:releaseDate": "March 2025"}),
        "release date 'March 2025' is not a date",
    ),
    "not json": ('{"name": ', "not JSON (line 1"),
    "translations not keyed by language": (
        _descriptor(_field("gender", **{"gsd:translations": {"French!": {}}})),
        "gsd:translations must map language codes",
    ),
    "translation of an unknown category": (
        _descriptor(
            _field(
                "gender",
                categories=["Female", "Male"],
                **{"gsd:translations": {"fr": {"categories": {"Other": "Autre"}}}},
            )
        ),
        "gsd:translations 'fr': 'Other' is not one of the field's categories",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CODEBOOKS))
def test_a_bad_codebook_file_is_one_clear_line_and_writes_nothing(case, tmp_path):
    content, message = BAD_CODEBOOKS[case]
    csv = tmp_path / "in.csv"
    csv.write_text("gender,ageBroad\nFemale,0-29\nMale,30+\n")
    codebook = tmp_path / "datapackage.json"
    codebook.write_text(content if isinstance(content, str) else json.dumps(content))
    result = run_engine("import-release", "--microdata", csv, "--codebook", codebook, "--out", tmp_path / "s.duckdb")
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["datapackage.json", "in.csv"]


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--release-date", "1 March", "release date '1 March' is not a date"),
        ("--source-url", "javascript:alert(1)", "is not an http(s) address"),
        ("--title", " ", "release title must be non-empty text"),
    ],
)
def test_bad_metadata_flags(tmp_path, flag, value, message):
    paths = write_release(tmp_path, "regions", rows=50)
    result = run_engine(
        "import-release", "--microdata", paths["microdata"], "--out", tmp_path / "s.duckdb", flag, value
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "s.duckdb").exists()


def test_a_version_1_store_still_opens(tmp_path):
    paths = write_release(tmp_path, "regions", rows=60)
    out = tmp_path / "s.duckdb"
    import_release(paths["microdata"], str(out))
    con = duckdb.connect(str(out))
    for column in METADATA_KEYS:
        con.execute(f"ALTER TABLE release DROP COLUMN {column}")
    for column in ("group_label", "role", "party", "pair"):
        con.execute(f"ALTER TABLE codebook DROP COLUMN {column}")
    con.close()
    store = Store(out)
    assert store.release["title"] is None and release_texts(store.release)["heading"] == "regions"
    assert store.codebook["hasChildren"].group_label == "Other" and store.codebook.flows() == []


def test_the_builtin_codebook_carries_ctdc_metadata():
    from frictionless import Package

    from data.codebook import BUILTIN_CODEBOOK

    assert Package.validate_descriptor(json.load(open(BUILTIN_CODEBOOK))).valid  # the app reads it unchecked
    builtin = builtin_codebook_file()
    assert len(builtin.entries) == 27
    assert builtin.entry_for("sectorOfLabourAgriculture").name == "typeOfLabourAgriculture"
    assert builtin.entry_for("meansWithholdDocuments").name == "meansWithholdDocs"
    assert builtin.entry_for("ageBroad").value_aliases["9--17"] == "09--17"
    citizenship = builtin.entry_for("citizenship")
    assert (citizenship.role, citizenship.pair, citizenship.party) == ("origin", "CountryOfExploitation", "victim")
    assert builtin.group_labels["recruiter relation"] == "Recruiter relation"


def test_a_descriptor_can_describe_a_multi_value_column(tmp_path):
    paths = write_release(tmp_path, "victim_perpetrator", rows=150, seed=8)
    field = {
        "name": "perpetratorGender",
        "type": "string",
        "title": "Perpetrators",
        "gsd:party": "perpetrator",
        "categories": [{"value": "Male", "label": "Men"}, {"value": "Female", "label": "Women"}, "Unknown"],
    }
    path = tmp_path / "datapackage.json"
    path.write_text(json.dumps(_descriptor(field)))
    out = tmp_path / "s.duckdb"
    import_release(paths["microdata"], str(out), codebook=str(path))
    flags = Store(out).codebook.groups()["perpetratorGender"]
    assert [(a.name, a.label) for a in flags] == [
        ("perpetratorGender_Male", "Men"),
        ("perpetratorGender_Female", "Women"),
        ("perpetratorGender_Unknown", "Unknown"),
    ]
    assert {(a.group_label, a.party, a.kind) for a in flags} == {("Perpetrators", "perpetrator", "flag")}
    field["categories"] = field["categories"][:2]
    path.write_text(json.dumps(_descriptor(field)))
    with pytest.raises(InputError, match="value 'Unknown' is not one of Male, Female"):
        import_release(paths["microdata"], str(tmp_path / "t.duckdb"), codebook=str(path))
    assert not (tmp_path / "t.duckdb").exists()


def test_build_takes_a_codebook_and_metadata_flags(tmp_path):
    from synth_engine import pipeline
    from synth_engine.__main__ import build_settings, parser

    paths = write_release(tmp_path, "regions", rows=300, seed=2)
    descriptor = _descriptor(
        _field(
            "sector",
            title="Sector of work",
            categories=[
                {"value": "Fishing", "label": "Fishing and aquaculture"},
                "Agriculture",
                "Domestic work",
                "Manufacturing",
            ],
        ),
        title="Regions 2024",
        version="1",
    )
    codebook = tmp_path / "datapackage.json"
    codebook.write_text(json.dumps(descriptor))
    out = tmp_path / "s.duckdb"
    args = parser().parse_args(
        [
            "build",
            "--input",
            paths["microdata"],
            "--out",
            str(out),
            "--seed",
            "1",
            "--reporting-length",
            "2",
            "--codebook",
            str(codebook),
            "--release-version",
            "3",
        ]
    )
    pipeline.build(build_settings(args), show_progress=False)
    store = Store(out)
    assert (store.release["name"], store.release["title"], store.release["version"]) == ("Regions 2024",) * 2 + ("3",)
    sector = store.codebook["sector"]
    assert sector.label == "Sector of work" and sector.values[0] == "Fishing"
    assert sector.label_of("Fishing") == "Fishing and aquaculture"


def test_a_codebook_in_several_languages_reads_in_the_reader_s_and_round_trips(tmp_path):
    paths = write_release(tmp_path, "victim_perpetrator", rows=60, seed=2)
    translations = {
        "fr": {
            "title": "Genre de la victime",
            "description": "Tel que déclaré.",
            "categories": {"Female": "Femme ou fille"},
        },
        "ar": {"categories": {"Male": "رجل أو صبي"}},
    }
    descriptor = _descriptor(
        _field(
            "gender",
            title="Victim's gender",
            description="As stated.",
            categories=[{"value": "Male", "label": "Man or boy"}, {"value": "Female", "label": "Woman or girl"}],
            **{"gsd:translations": translations},
        )
    )
    path = tmp_path / "datapackage.json"
    path.write_text(json.dumps(descriptor))
    out = tmp_path / "s.duckdb"
    import_release(paths["microdata"], str(out), codebook=str(path))
    store = Store(out)
    try:
        with i18n.language("fr"):
            gender = store.codebook["gender"]
            assert (gender.label, gender.description) == ("Genre de la victime", "Tel que déclaré.")
            assert (gender.label_of("Female"), gender.label_of("Male")) == ("Femme ou fille", "Man or boy")
        with i18n.language("ar"):
            assert store.codebook["gender"].label_of("Male") == "رجل أو صبي"
            assert store.codebook["gender"].label == "Victim's gender"  # not given: the release's
        english = store.codebook["gender"]
        assert (english.label, english.label_of("Female")) == ("Victim's gender", "Woman or girl")
        written = json.loads(exports.codebook_datapackage(store.codebook, store.release))
    finally:
        store.close()
    field = next(f for f in written["resources"][0]["schema"]["fields"] if f["name"] == "gender")
    assert field["gsd:translations"] == translations
