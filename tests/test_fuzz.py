"""Hostile input, generated with hypothesis, at every door of the running app: callback calls
for every server-side callback the app registers (read from app.callback_map, so the fuzzer
follows the pages as they are added), malformed callback requests, hostile query strings on
every page, and the download route.

Whatever comes in: never a 500, never internals (a traceback, a file path, a DuckDB message)
in the answer, never a change to the store file, and the app keeps serving.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.downloads import COLUMNS_KEY, KINDS
from ops_support import BodyBuilder, DashClient, assert_no_internals, file_digest, make_demo_store, routing_body

SETTINGS = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))

SQL_AND_PATHS = [
    "' OR '1'='1",
    "1; DROP TABLE records; --",
    "\"; COPY records TO '/tmp/gsd-fuzz.csv'; --",
    "') UNION SELECT * FROM read_csv('/etc/passwd') --",
    "SET enable_external_access = true",
    "ATTACH '/tmp/gsd-fuzz.duckdb' AS x",
    "%",
    "_",
    "\\",
    "~",
    "*",
    "NULL",
    "records",
    "record_id",
    "\x00",
    "\ud800",
    "\udfff",
    "𝔊𝔖𝔇 ∑",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "group:",
    "group:exploitation type",
    "a" * 3000,
]
ALLOWED = {200, 204, 400, 404, 413, 415}
REDIRECTS = {301, 302, 307, 308}  # werkzeug merging slashes in a path (GET only)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    from app import create_app

    folder = tmp_path_factory.mktemp("fuzz")
    path = make_demo_store(folder / "fuzz.duckdb", rows=3000, seed=21)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GSD_DOWNLOAD_CACHE", str(folder / "downloads"))
        app = create_app(path)
    client = DashClient(test_client=app.server.test_client())
    assert client.open("/").status_code == 200
    store = app.server.config["GSD_SERVICE"].store()
    words = list(store.codebook.names)
    for attribute in store.codebook:
        words.extend(attribute.values[:8])
    return {"app": app, "client": client, "path": path, "digest": file_digest(path), "words": words}


def server_callbacks(app) -> list[str]:
    return sorted(key for key, spec in app.callback_map.items() if "callback" in spec)


def pages(app) -> list[str]:
    from components.pages import all_pages

    return [page.path for page in all_pages()]


def check_answer(response, allowed=ALLOWED) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code in allowed, f"{response.status_code}: {text[:500]}"
    assert_no_internals(text)


def still_serving_and_unchanged(target) -> None:
    client = target["client"]
    assert client.get("/healthz").status_code == 200
    page = client.post_callback(routing_body(target["app"], "/", ""))
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert file_digest(target["path"]) == target["digest"], "the store file changed"


# --- values ---------------------------------------------------------------------------------


def scalars(words):
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.sampled_from(SQL_AND_PATHS),
        st.sampled_from(words),
    )


def json_values(words):
    small = st.recursive(
        scalars(words),
        lambda children: (
            st.lists(children, max_size=6)
            | st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(words)), children, max_size=6)
        ),
        max_leaves=25,
    )
    huge = st.builds(lambda value, n: [value] * n, scalars(words), st.integers(1000, 30000))
    return st.one_of(small, small, small, huge)


# --- callback requests shaped as the renderer shapes them ----------------------------------


@st.composite
def callback_calls(draw, app, words):
    key = draw(st.sampled_from(server_callbacks(app)))
    values = json_values(words)
    wild = st.one_of(st.sampled_from(words), st.text(min_size=1, max_size=20), st.integers(0, 50))
    builder = BodyBuilder(app, key, lambda cid, prop: draw(values), lambda: draw(wild), lambda: draw(st.integers(0, 4)))
    return builder.body()


# --- the tests ------------------------------------------------------------------------------


def test_every_callback_takes_hostile_values(target):
    app, client = target["app"], target["client"]
    seen = set()

    @settings(max_examples=150, **SETTINGS)
    @given(callback_calls(app, target["words"]))
    def run(body):
        seen.add(body["output"])
        check_answer(client.post_callback(body))

    run()
    assert seen, "no server-side callback was called"
    still_serving_and_unchanged(target)


MUTATIONS = ["drop", "replace", "output", "nest", "retarget", "top", "wrong-types"]


@st.composite
def malformed_calls(draw, app, words):
    body = draw(callback_calls(app, words))
    mutation = draw(st.sampled_from(MUTATIONS))
    values = json_values(words)
    if mutation == "drop":
        body.pop(draw(st.sampled_from(sorted(body))))
    elif mutation == "replace":
        body[draw(st.sampled_from(sorted(body)))] = draw(values)
    elif mutation == "output":
        body["output"] = draw(
            st.one_of(st.text(max_size=80), st.sampled_from(SQL_AND_PATHS), st.sampled_from(sorted(app.callback_map)))
        )
    elif mutation == "nest":  # sent as text: too deep for Python's own json module
        depth = draw(st.integers(40, 5000))
        body["inputs"] = "@NEST@"
        return json.dumps(body).replace('"@NEST@"', "[" * depth + "]" * depth).encode()
    elif mutation == "retarget":
        body["inputs"] = [
            {"id": draw(st.text(max_size=20)), "property": draw(st.text(max_size=20)), "value": draw(values)}
            for _ in body.get("inputs", [])
        ]
    elif mutation == "top":
        body = draw(values)
    else:
        body["inputs"] = draw(st.one_of(st.text(), st.integers(), st.dictionaries(st.text(), values)))
        body["changedPropIds"] = draw(values)
    return json.dumps(body).encode()


def test_malformed_callback_requests_are_refused(target):
    app, client = target["app"], target["client"]

    @settings(max_examples=120, **SETTINGS)
    @given(malformed_calls(app, target["words"]))
    def run(data):
        check_answer(client.post_callback(data=data))

    run()
    still_serving_and_unchanged(target)


def test_unknown_callbacks_and_deep_nesting_are_400(target):
    client = target["client"]
    for body in [
        {},
        [],
        "x",
        None,
        {"output": "nope.children", "inputs": [], "state": []},
        {"output": "'; DROP TABLE records; --", "inputs": []},
    ]:
        assert client.post_callback(body).status_code == 400
    for data in [b"[" * 100_000 + b"]" * 100_000, b"{" * 50_000, b'{"a":' * 20_000 + b"1" + b"}" * 20_000]:
        response = client.post_callback(data=data)
        assert response.status_code in (400, 413), response.status_code
    still_serving_and_unchanged(target)


@settings(max_examples=40, **SETTINGS)
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda a, b: a + b,
            st.just(b'{"output": "page-content.children", "inputs": ["'),
            st.binary(min_size=1, max_size=50).map(lambda b: b + b"\xff\xfe\xc3\x28"),
        ),
    )
)
def test_invalid_utf8_and_non_json_bodies(target, raw):
    response = target["client"].post_callback(data=raw)
    check_answer(response)
    assert response.status_code in (400, 413)


query_keys = st.one_of(
    st.sampled_from(
        ["gender", "ageBroad", "columns", "view", "rows", "cols", "sort", "attribute", "values", "page", "x"]
    ),
    st.text(max_size=30),
)
query_values = st.one_of(
    st.text(max_size=60), st.sampled_from(SQL_AND_PATHS), st.sampled_from(["~", "", "Woman", "09--17", "2015"])
)


@st.composite
def query_strings(draw, words):
    pairs = draw(
        st.lists(
            st.tuples(st.one_of(query_keys, st.sampled_from(words)), st.one_of(query_values, st.sampled_from(words))),
            max_size=12,
        )
    )
    encoded = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}"
        for k, v in pairs
        if not any(0xD800 <= ord(c) <= 0xDFFF for c in k + v)
    )
    raw = draw(
        st.sampled_from(
            [
                "",
                "&&&",
                "=&=",
                "a=%ZZ",
                "a=%00",
                "%E0%A4%A",
                ";;",
                "#frag",
                "a" * 5000 + "=1",
                "gender=" + "&gender=".join(["Woman"] * 600),
            ]
        )
    )
    return "?" + "&".join(part for part in (encoded, raw) if part)


def test_hostile_query_strings_on_every_page(target):
    app, client = target["app"], target["client"]
    paths = pages(app) + ["/no-such-page", "/..", "//", "/%2e%2e/%2e%2e/etc/passwd"]
    url_callbacks = [
        key
        for key in server_callbacks(app)
        if any(d["id"] == "url" for d in app.callback_map[key]["inputs"] + app.callback_map[key].get("state", []))
    ]

    @settings(max_examples=60, **SETTINGS)
    @given(st.sampled_from(paths), query_strings(target["words"]))
    def run(path, search):
        check_answer(client.get(path + search), ALLOWED | REDIRECTS)
        for key in url_callbacks:

            def value_for(cid, prop):
                if cid == "url":
                    return {"pathname": path, "search": search, "hash": "", "href": path + search}.get(prop)
                return None

            body = BodyBuilder(app, key, value_for, lambda: "x", lambda: 0).body()
            check_answer(client.post_callback(body))

    run()
    still_serving_and_unchanged(target)


def download_rules(app) -> list[str]:
    return [rule.rule for rule in app.server.url_map.iter_rules() if rule.rule.startswith("/download")]


def test_download_route_takes_traversal_and_absurd_columns(target):
    app, client = target["app"], target["client"]
    assert download_rules(app), "no /download route registered"
    kinds = sorted(KINDS)
    names = app.server.config["GSD_SERVICE"].store().codebook.names
    traversal = [
        "../../etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "records.csv/../../../etc/passwd",
        "records.csv%00.txt",
        "/etc/passwd",
        "....//....//etc/passwd",
        "records.csv;rm -rf /",
        "x" * 2000,
    ]
    column_lists = st.one_of(
        st.lists(st.sampled_from(names), max_size=len(names) * 3),
        st.lists(st.one_of(st.text(max_size=20), st.sampled_from(SQL_AND_PATHS)), max_size=50),
        st.builds(lambda n: [names[0]] * n, st.integers(100, 3000)),
        st.builds(lambda n: [f"c{i}" for i in range(n)], st.integers(100, 3000)),
    )

    @settings(max_examples=60, **SETTINGS)
    @given(
        st.sampled_from(kinds + traversal),
        column_lists,
        st.lists(st.tuples(st.sampled_from(names + ["x"]), query_values), max_size=6),
    )
    def run(kind, columns, filters):
        pairs = [(COLUMNS_KEY, c) for c in columns] + filters
        pairs = [(k, v) for k, v in pairs if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in k + v)]
        response = client.get("/download/" + kind, query_string=pairs)
        body = response.get_data()
        assert response.status_code in ALLOWED, f"{response.status_code}: {body[:300]!r}"
        assert b"root:x:0:0" not in body
        if response.status_code != 200:
            assert_no_internals(body.decode("utf-8", "replace"))

    run()
    still_serving_and_unchanged(target)
