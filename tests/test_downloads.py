"""The /download route and the Downloads page's callback, on a hand-built store."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from app import create_app
from builders import random_rows, store_from_rows
from callbacks import downloads as download_callbacks
from data.aggregates import LengthParameters, write_aggregates_rows
from data.store import Store

AGGREGATES = {"gender:Woman": 31, "gender:Man": 12, "ageBroad:48+": 9, "ageBroad:48+;gender:Woman": 4}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return store_from_rows(
        tmp_path_factory.mktemp("dl") / "dl.duckdb",
        random_rows(80, seed=4),
        aggregates=AGGREGATES,
        record_count=81,
        lengths=[LengthParameters(1, 2.0, 3, 3.46, 40.0), LengthParameters(2, 1.0, 9, 3.0, 0.0)],
        name="Test Release 2025",
        is_demonstration=True,
    )


@pytest.fixture(scope="module")
def app(store_path):
    return create_app(store_path)


@pytest.fixture
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def store(store_path):
    s = Store(store_path)
    yield s
    s.close()


def read_csv(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def test_filtered_records_as_csv(client, store):
    response = client.get("/download/records.csv?gender=Woman&gender=~&ageBroad=48%2B")
    assert response.status_code == 200
    expected = store.count(store.filter({"gender": ["Woman", None], "ageBroad": ["48+"]}))
    assert expected > 0
    rows = read_csv(response.data)
    assert len(rows) == expected == int(response.headers["X-Record-Count"])
    assert list(rows[0]) == store.codebook.names
    assert {r["gender"] for r in rows} <= {"Woman", ""} and {r["ageBroad"] for r in rows} == {"48+"}
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="test-release-2025-demonstration-records-filtered.csv"'


def test_chosen_columns_as_parquet(client, store):
    response = client.get("/download/records.parquet?isForcedLabour=1&columns=gender&columns=yearOfRegistration")
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(response.data))
    assert table.column_names == ["yearOfRegistration", "gender"]  # codebook order
    assert table.num_rows == store.count(store.filter({"isForcedLabour": ["1"]}))


def test_whole_microdata(client, store):
    response = client.get("/download/microdata.csv")
    assert len(read_csv(response.data)) == store.count() == 80
    assert "records-filtered" not in response.headers["Content-Disposition"]
    parquet = pq.read_table(io.BytesIO(client.get("/download/microdata.parquet").data))
    assert parquet.num_rows == 80 and parquet.column_names == store.codebook.names


def test_aggregates_in_sds_format(client, store, tmp_path):
    response = client.get("/download/aggregates.tsv")
    assert response.status_code == 200
    reference = tmp_path / "reference.tsv"
    write_aggregates_rows(reference, store.release["protected_record_count"], store.aggregate_rows())
    assert response.data == reference.read_bytes()
    lines = response.data.decode().splitlines()
    assert lines[:3] == ["selections\tprotected_count", "record_count\t81", "gender:Woman\t31"]


def test_codebook_and_data_card(client, store):
    rows = read_csv(client.get("/download/codebook.csv").data)
    assert {(r["attribute"], r["value"]) for r in rows} >= {("gender", "Woman"), ("ageBroad", "48+")}
    markdown = client.get("/download/codebook.md").data.decode()
    assert "`ageBroad`" in markdown and "| `48+` | 48 and over |" in markdown
    card = json.loads(client.get("/download/datacard.json").data)
    assert card["release"]["name"] == "Test Release 2025" and card["release"]["is_demonstration"] is True
    assert card["release"]["epsilon"] == 12.0 and card["release"]["protected_record_count"] == 81
    assert [row["length"] for row in card["lengths"]] == [1, 2] and card["lengths"][0]["sensitivity"] == 3
    assert card["provenance"]["source"] == "test.csv"
    assert any("Demonstration" in note for note in card["notes"])


def test_codebook_as_a_data_package(client, store):
    response = client.get("/download/datapackage.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    assert response.headers["Content-Disposition"].endswith('.json"')
    resource = json.loads(response.data)["resources"][0]
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert list(fields) == store.codebook.names
    assert resource["path"].endswith("microdata.csv")


@pytest.mark.parametrize(
    "url",
    [
        "/download/nothing.csv",
        "/download/../../etc/passwd",
        "/download/..%2F..%2Fetc%2Fpasswd",
        "/download/records.csv/../../app.py",
        "/download/records.csv?columns=password",
        "/download/records.csv?columns=gender&columns=gender",
        "/download/records.csv?" + "&".join(f"columns=c{i}" for i in range(300)),
        "/download/records.csv?" + "&".join("gender=Woman" for _ in range(2500)),
        "/download/records.csv?gender=Martian",
        "/download/records.csv?nope=1",
        "/download/records.csv?columns=",
        "/download/microdata.csv?gender=Woman",
    ],
)
def test_bad_requests_get_a_short_plain_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert len(response.data) < 200 and b"Traceback" not in response.data


def test_bad_requests_name_the_problem(client):
    assert client.get("/download/records.csv?columns=password").data == b"Unknown column: password.\n"
    assert client.get("/download/nothing.csv").data == b"Unknown download.\n"


def test_the_route_decodes_the_address_strictly(client):
    assert client.get("/download/records.csv?gender=Martian").data == b"Unknown value of gender: Martian.\n"
    assert client.get("/download/records.csv?nope=1").data == b"Unknown filter: nope.\n"
    assert client.get("/download/microdata.csv?gender=Woman").data == b"This download takes no parameters.\n"


def test_links_show_the_count_first(app, store):
    service = app.server.config["GSD_SERVICE"]
    with app.server.test_request_context("/"):
        out = download_callbacks.links(service, {"gender": ["Man"]}, ["gender", "ageBroad"])
    count = store.count(store.filter({"gender": ["Man"]}))
    first, items = out.children
    assert first.id == "download-count" and first.children[0].children == f"{count:,}"
    hrefs = [li.children.href for li in items.children]
    assert hrefs == [
        "/download/records.csv?gender=Man&columns=gender&columns=ageBroad",
        "/download/records.parquet?gender=Man&columns=gender&columns=ageBroad",
    ]
    with app.server.test_request_context("/"):
        every = download_callbacks.links(service, {}, store.codebook.names)
    assert every.children[1].children[0].children.href == "/download/records.csv"


@pytest.mark.parametrize("columns", [True, 5.0, {"gender": 1}, [None, 3]])
def test_links_ignore_a_column_choice_of_the_wrong_shape(app, store, columns):
    service = app.server.config["GSD_SERVICE"]
    with app.server.test_request_context("/"):
        out = download_callbacks.links(service, {}, columns)
    assert out.children == "Choose at least one column to download."


def test_no_demonstration_in_real_release_names(tmp_path):
    from data.exports import filename

    assert (
        filename({"name": "CTDC GSD 2025", "is_demonstration": False}, "records", "csv") == "ctdc-gsd-2025-records.csv"
    )
    assert (
        filename({"name": "Demonstration build", "is_demonstration": True}, "codebook", "md")
        == "demonstration-build-codebook.md"
    )
