"""In-memory counting (data/counting.py) agrees with the store's SQL for every selection."""
from __future__ import annotations

import numpy as np
import pytest

from builders import random_rows, store_from_rows
from data.counting import RecordCodes
from data.service import DataService
from data.store import Store


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
