"""The one-scan queries behind the overview: each part equals the query it stands for."""

from __future__ import annotations

import pandas as pd
import pytest

from builders import random_rows, store_from_rows
from data.store import FilterError, Store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rows = random_rows(400, seed=5)
    for i, row in enumerate(rows):  # a second flag group
        row["recruiterRelationFriend"] = "1" if i % 3 == 0 else None
        row["recruiterRelationFamily"] = "1" if i % 5 == 0 else None
    s = Store(store_from_rows(tmp_path_factory.mktemp("g") / "g.duckdb", rows))
    yield s
    s.close()


SETS = [
    ("yearOfRegistration", "isForcedLabour", "isSexualExploit"),
    ("gender", "ageBroad"),
    ("CountryOfExploitation",),
    ("gender",),
]


@pytest.mark.parametrize("mapping", [{}, {"gender": ["Woman", None]}, {"ageBroad": ["48+"], "isForcedLabour": ["1"]}])
def test_grouping_counts_equal_group_counts(store, mapping):
    flt = store.filter(mapping)
    parts = store.grouping_counts(flt, SETS)
    assert len(parts) == len(SETS)
    for names, part in zip(SETS, parts):
        assert list(part.columns) == list(names) + ["count"]
        if len(names) <= 2:
            expected = store.group_counts(flt, names[0], names[1] if len(names) == 2 else None)
            pd.testing.assert_frame_equal(part, expected)
        assert part["count"].sum() == store.count(flt)


def test_grouping_counts_rejects_unknown_and_repeated(store):
    with pytest.raises(FilterError):
        store.grouping_counts(store.filter({}), [("nope",)])
    with pytest.raises(FilterError):
        store.grouping_counts(store.filter({}), [("gender", "gender")])
    assert store.grouping_counts(store.filter({}), []) == []


def test_flag_groups_counts_equal_one_group_queries(store):
    flt = store.filter({"gender": ["Man"]})
    both = store.flag_groups_counts(flt, ["exploitation type", "recruiter relation"])
    assert both == {g: store.flag_group_counts(flt, g) for g in ["exploitation type", "recruiter relation"]}
    with pytest.raises(FilterError):
        store.flag_groups_counts(flt, ["demographics"])
