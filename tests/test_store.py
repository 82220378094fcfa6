"""The store's data layer: filters, every query against counts made by hand, read-only access."""

from __future__ import annotations

import duckdb
import pytest

from builders import random_rows, store_from_rows
from data.store import Filter, FilterError, Store, StoreError

ROWS = random_rows(400, seed=11)
AGGREGATES = {
    "gender:Woman": 120,
    "ageBroad:09--17": 50,
    "ageBroad:09--17;gender:Woman": 17,
    "CountryOfExploitation:USA;gender:Woman": 31,
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = store_from_rows(tmp_path_factory.mktemp("s") / "s.duckdb", ROWS, AGGREGATES, record_count=404)
    s = Store(path)
    yield s
    s.close()


def matches(row, mapping):
    return all(row.get(a) in values for a, values in mapping.items())


@pytest.mark.parametrize(
    "mapping",
    [
        {},
        {"gender": ["Woman"]},
        {"gender": ["Woman", "Man"], "ageBroad": ["09--17"]},
        {"ageBroad": [None]},
        {"ageBroad": [None, "48+"], "isForcedLabour": ["1"]},
        {"CountryOfExploitation": ["USA"], "isSexualExploit": [None], "yearOfRegistration": ["2016", "2019"]},
    ],
)
def test_count_matches_hand_count(store, mapping):
    assert store.count(store.filter(mapping)) == sum(matches(r, mapping) for r in ROWS)


def test_group_counts_one_and_two_attributes(store):
    flt = store.filter({"isForcedLabour": ["1"]})
    frame = store.group_counts(flt, "ageBroad")
    expected = {}
    for r in ROWS:
        if r["isForcedLabour"] == "1":
            expected[r["ageBroad"]] = expected.get(r["ageBroad"], 0) + 1
    assert dict(zip(frame["ageBroad"], frame["count"])) == expected
    # codebook order, missing last
    order = [v for v in frame["ageBroad"] if v is not None]
    values = store.codebook["ageBroad"].values
    assert order == sorted(order, key=values.index) and frame["ageBroad"].iloc[-1] is None

    both = store.group_counts(store.filter({}), "gender", by="CountryOfExploitation")
    pairs = {}
    for r in ROWS:
        pairs[(r["gender"], r["CountryOfExploitation"])] = pairs.get((r["gender"], r["CountryOfExploitation"]), 0) + 1
    assert {(g, c): n for g, c, n in both.itertuples(index=False)} == pairs


def test_flag_group_counts_use_the_codebook_denominator(store):
    flt = store.filter({"gender": ["Woman"]})
    denominator, per_flag = store.flag_group_counts(flt, "exploitation type")
    women = [r for r in ROWS if r["gender"] == "Woman"]
    assert denominator == sum(bool(r["isForcedLabour"] or r["isSexualExploit"]) for r in women)
    assert per_flag == {
        "isForcedLabour": sum(r["isForcedLabour"] == "1" for r in women),
        "isSexualExploit": sum(r["isSexualExploit"] == "1" for r in women),
    }


def test_records_page_and_batches(store):
    flt = store.filter({"gender": ["Man"]})
    expected_ids = [i + 1 for i, r in enumerate(ROWS) if r["gender"] == "Man"]
    page = store.records_page(flt, offset=3, limit=5, columns=["ageBroad", "gender"])
    assert list(page.columns) == ["record_id", "gender", "ageBroad"]  # codebook order
    assert page["record_id"].tolist() == expected_ids[3:8]
    assert set(page["gender"]) == {"Man"}
    total = sum(batch.num_rows for batch in store.record_batches(flt, batch_rows=7))
    assert total == len(expected_ids)


def test_protected_counts(store):
    assert store.protected_count({"gender": "Woman", "ageBroad": "09--17"}) == 17
    assert store.protected_count({"ageBroad": "09--17", "gender": "Woman"}) == 17
    assert store.protected_count({"gender": "Man"}) is None
    assert (
        store.combination_key({"gender": "Woman", "CountryOfExploitation": "USA"})
        == "CountryOfExploitation:USA;gender:Woman"
    )
    assert store.release["protected_record_count"] == 404
    assert store.protected_counts(["gender:Woman", "nope"]) == {"gender:Woman": 120}
    every = store.all_protected_counts()
    assert every["gender:Woman"] == 120 and every["ageBroad:09--17;gender:Woman"] == 17
    assert len(every) == store.table_sizes()["aggregates"]
    with pytest.raises(FilterError, match="unknown value"):
        store.combination_key({"gender": ["Woman"]})


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({"genderx": ["Woman"]}, "unknown attribute"),
        ({"gender": ["Girl"]}, "unknown value"),
        ({"gender": [3]}, "unknown value"),
        ({"gender": ["Woman'; DROP TABLE records; --"]}, "unknown value"),
        (["gender"], "must map"),
        ({"gender": 0.5}, "must be a list"),  # shapes a hostile callback payload can take
        ({"gender": True}, "must be a list"),
        ({"gender": {"Woman": 1}}, "must be a list"),
    ],
)
def test_filter_rejects_what_the_codebook_does_not_know(store, mapping, message):
    with pytest.raises(FilterError, match=message):
        store.filter(mapping)


def test_filter_is_normalized(store):
    a = store.filter({"ageBroad": [None, "48+", "0--8"], "gender": "Woman"})
    b = store.filter({"gender": ["Woman"], "ageBroad": ["0--8", "48+", None]})
    assert a == b and a.cache_key() == b.cache_key()
    assert a.values("ageBroad") == ("0--8", "48+", None)
    assert a.without("ageBroad") == store.filter({"gender": ["Woman"]})
    assert not store.filter({"gender": []})


def test_unknown_attribute_in_queries(store):
    with pytest.raises(FilterError):
        store.group_counts(Filter(), "nope")
    with pytest.raises(FilterError):
        store.records_page(Filter(), columns=["gender", "nope"])
    with pytest.raises(FilterError):
        store.protected_count({"gender": "Girl"})


def test_the_app_connection_is_read_only_and_sealed(store, tmp_path):
    cursor = store._cursor()
    with pytest.raises(duckdb.Error):
        cursor.execute("DELETE FROM records")
    outside = tmp_path / "leak.csv"
    with pytest.raises(duckdb.Error):
        cursor.execute(f"COPY records TO '{outside}'")
    with pytest.raises(duckdb.Error):
        cursor.execute("SET enable_external_access = true")
    assert not outside.exists()
    assert store.count(Filter()) == len(ROWS)


def test_missing_and_foreign_files_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path / "absent.duckdb")
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        Store(junk)
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a GSD Explorer store"):
        Store(other)


def test_records_keep_missing_as_null_and_enum_order(store):
    con = store._cursor()
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'records'"
        ).fetchall()
    )
    assert types["ageBroad"].startswith("ENUM('0--8', '09--17', '18--20'")
    assert types["isForcedLabour"] == "ENUM('1')"
    nulls = con.execute("SELECT count(*) FROM records WHERE isForcedLabour IS NULL").fetchone()[0]
    assert nulls == sum(r["isForcedLabour"] is None for r in ROWS)
