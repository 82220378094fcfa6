"""In-memory counting (data/counting.py) agrees with the store's SQL for every selection."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from builders import random_rows, store_from_rows
from data.counting import RecordCodes
from data.service import DataService
from data.store import FilterError, Store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = store_from_rows(tmp_path_factory.mktemp("counting") / "s.duckdb", random_rows(600, seed=5))
    s = Store(path)
    yield s
    s.close()


def sql_counts(store, flt, name):
    frame = store.group_counts(flt.without(name), name)
    counts = dict(zip(frame[name], frame["count"]))
    return {v: int(counts.get(v, 0)) for v in list(store.codebook[name].values) + [None]}


def random_selection(store, rng):
    selection = {}
    for attribute in rng.choice(store.codebook.names, size=rng.integers(0, 4), replace=False):
        values = list(store.codebook[attribute].values) + [None]
        chosen = rng.choice(len(values), size=rng.integers(1, len(values) + 1), replace=False)
        selection[str(attribute)] = [values[i] for i in chosen]
    return selection


def test_navigate_counts_match_sql_group_counts(store):
    codes = RecordCodes.load(store)
    assert codes.n_records == 600
    rng = np.random.default_rng(11)
    for _ in range(25):
        flt = store.filter(random_selection(store, rng))
        counts = codes.navigate_counts(flt, store.codebook.names)
        for name in store.codebook.names:
            assert counts[name] == sql_counts(store, flt, name), (flt, name)


def test_codes_follow_codebook_order(store):
    codes = RecordCodes.load(store)
    frame = store.records_page(store.filter({}), limit=10_000)
    for name in store.codebook.names:
        values = store.codebook[name].values
        decoded = [None if c == 0 else values[c - 1] for c in codes.codes[name]]
        assert decoded == [v if isinstance(v, str) else None for v in frame[name].tolist()]


def test_service_caches_and_reloads_the_codes(store):
    service = DataService(store.path)
    flt = service.filter({"gender": ["Woman"]})
    first = service.navigate_counts(flt, ["ageBroad"])
    assert first == {"ageBroad": sql_counts(store, flt, "ageBroad")}
    assert service._record_codes(service.store()) is service._record_codes(service.store())


def test_pair_counts_match_sql_group_counts(store):
    codes = RecordCodes.load(store)
    rng = np.random.default_rng(3)
    names = store.codebook.names
    for _ in range(20):
        flt = store.filter(random_selection(store, rng))
        rows, cols = (str(n) for n in rng.choice(names, size=2, replace=False))
        base = flt.without(rows).without(cols)
        frame = store.group_counts(base, rows, cols)
        expected = {(a, b): int(n) for a, b, n in zip(frame[rows], frame[cols], frame["count"])}
        assert codes.pair_counts(flt, rows, cols) == expected, (flt, rows, cols)


def test_service_looks_protected_counts_up_in_memory_and_rereads_a_replaced_store(tmp_path):
    path = tmp_path / "p.duckdb"
    store_from_rows(path, random_rows(50, seed=2), aggregates={"gender:Woman": 30, "gender:Man": 15})
    service = DataService(str(path))
    keys = ["gender:Woman", "gender:Man", "gender:Woman;isForcedLabour:1"]
    assert service.protected_counts(keys) == {"gender:Woman": 30, "gender:Man": 15}
    assert service._protected_index(service.store()) is service._protected_index(service.store())
    replacement = tmp_path / "new.duckdb"
    store_from_rows(replacement, random_rows(50, seed=2), aggregates={"gender:Woman": 31})
    os.replace(replacement, path)
    service._checked_at = float("-inf")  # look at the file again now
    assert service.protected_counts(keys) == {"gender:Woman": 31}


GROUPING_SETS = [
    ("yearOfRegistration", "isForcedLabour", "isSexualExploit"),
    ("ageBroad", "gender"),
    ("CountryOfExploitation",),
    ("gender",),
    ("CountryOfExploitation", "isSexualExploit", "ageBroad"),
]


def test_grouping_and_flag_group_counts_match_sql(store):
    codes = RecordCodes.load(store)
    groups = sorted({a.group for a in store.codebook if a.kind == "flag"})
    rng = np.random.default_rng(8)
    selections = [{}, {"gender": ["Woman"], "ageBroad": ["48+"]}]
    selections += [random_selection(store, rng) for _ in range(15)]
    for selection in selections:
        flt = store.filter(selection)
        for ours, theirs in zip(codes.grouping_counts(flt, GROUPING_SETS), store.grouping_counts(flt, GROUPING_SETS)):
            pd.testing.assert_frame_equal(ours, theirs, check_dtype=len(theirs) > 0)
        assert codes.flag_groups_counts(flt, groups) == store.flag_groups_counts(flt, groups), flt


def test_grouping_counts_refuse_what_sql_refuses(store):
    codes = RecordCodes.load(store)
    with pytest.raises(FilterError, match="unknown attribute"):
        codes.grouping_counts(store.filter({}), [("nope",)])
    with pytest.raises(FilterError, match="different attributes"):
        codes.grouping_counts(store.filter({}), [("gender", "gender")])
    with pytest.raises(FilterError, match="no flags"):
        codes.flag_groups_counts(store.filter({}), ["demographics"])
