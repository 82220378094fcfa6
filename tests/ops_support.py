"""Helpers of the serving tests: demonstration stores, gunicorn and redis-server as child
processes on free loopback ports, and a CSRF-aware client of the app's Dash endpoints."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
ENGINE = [sys.executable, "-m", "synth_engine"]

TRACEBACK_MARKERS = (
    "Traceback (most recent call last)",
    'File "/',
    "site-packages/",
    "_duckdb.",
    "Binder Error:",
    "Catalog Error:",
    "Parser Error:",
    "Conversion Error:",
    "Invalid Input Error:",
    "Permission Error:",
)


def make_demo_store(path, rows: int = 3000, seed: int = 11, name: str = "Demo store") -> str:
    """A store of `rows` demonstration records (stand-ins, not people), imported as a release."""
    from synth_engine.demo_source import write_demo_source
    from synth_engine.importer import import_release

    csv = f"{path}.csv"
    write_demo_source(csv, rows=rows, seed=seed)
    import_release(csv, str(path), name=name, demonstration=True)
    os.unlink(csv)
    return str(path)


def run_engine(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m synth_engine <args>` run from the repository root; its output captured as text."""
    return subprocess.run([*ENGINE, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def replace_atomically(source: str, target: str) -> None:
    """Copy `source` next to `target`, then rename it over `target`, as a deployment does."""
    staging = f"{target}.incoming"
    shutil.copyfile(source, staging)
    os.replace(staging, target)


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_no_internals(text: str) -> None:
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"response shows internals ({marker!r}): {text[:300]!r}"


class ChildProcess:
    """A server started by a test, stopped (SIGTERM to its own pid, then SIGKILL) at the end."""

    def __init__(self, argv, env=None, log_path=None):
        self.log_path = log_path
        self._log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        if not self.log_path:
            return ""
        with open(self.log_path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log is not subprocess.DEVNULL:
            self._log.close()


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as err:  # not up yet
            last = err
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout} s ({last})")


def start_gunicorn(port: int, env: dict, log_path: str, workers: int = 1, threads: int = 2) -> ChildProcess:
    """gunicorn with the project's gunicorn.conf.py on 127.0.0.1:`port`; returns once /healthz
    answers (200 or 503)."""
    full_env = {
        **os.environ,
        "GSD_BIND": f"127.0.0.1:{port}",
        "GSD_WORKERS": str(workers),
        "GSD_THREADS": str(threads),
        **env,
    }
    child = ChildProcess(
        [os.path.join(BIN, "gunicorn"), "-c", os.path.join(ROOT, "gunicorn.conf.py")], env=full_env, log_path=log_path
    )

    def up():
        if child.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{child.log()[-2000:]}")
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code in (200, 503)

    try:
        wait_until(up, 60, "gunicorn")
    except Exception:
        child.stop()
        raise
    return child


def start_redis(port: int, log_path: str) -> ChildProcess:
    """redis-server on 127.0.0.1:`port`, memory only; returns once it answers PING."""
    import redis

    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (scripts/system-deps.sh installs it)")
    child = ChildProcess(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ],
        log_path=log_path,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        wait_until(client.ping, 20, "redis-server")
    except Exception:
        child.stop()
        raise
    return child


class DashClient:
    """The calls Dash's renderer makes, over HTTP (requests) or a Flask test client: the index
    page (which sets the CSRF cookie), then callback POSTs carrying the token header."""

    def __init__(self, base_url: str | None = None, test_client=None):
        self.base_url = base_url
        self.test_client = test_client
        self.session = requests.Session() if test_client is None else None
        self.token = None

    def get(self, path: str, **kwargs):
        if self.test_client is not None:
            return self.test_client.get(path, **kwargs)
        return self.session.get(self.base_url + path, timeout=30, **kwargs)

    def open(self, path: str = "/"):
        response = self.get(path)
        if self.test_client is not None:
            cookie = self.test_client.get_cookie("_csrf_token")
            self.token = cookie.value if cookie else self.token
        else:
            self.token = self.session.cookies.get("_csrf_token") or self.token
        return response

    def post_callback(self, body=None, data: bytes | None = None, token: bool = True):
        headers = {"Content-Type": "application/json"}
        if token and self.token:
            headers["X-CSRFToken"] = self.token
        if self.test_client is not None:
            if data is None:
                return self.test_client.post("/_dash-update-component", json=body, headers=headers)
            return self.test_client.post("/_dash-update-component", data=data, headers=headers)
        if data is None:
            return self.session.post(self.base_url + "/_dash-update-component", json=body, headers=headers, timeout=30)
        return self.session.post(self.base_url + "/_dash-update-component", data=data, headers=headers, timeout=30)


# --- callback bodies, shaped as Dash's renderer shapes them ----------------------------------


def declared_outputs(key: str) -> list[tuple[str, str]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(part.rsplit(".", 1)) for part in parts]


class BodyBuilder:
    """A callback body for `key`: every declared id and property, values from `value_for`,
    wildcards filled by `wildcard()` consistently (one MATCH value, one expansion per ALL
    pattern)."""

    def __init__(self, app, key, value_for, wildcard, expansion_size):
        self.spec = app.callback_map[key]
        self.key = key
        self.value_for = value_for
        self.wildcard = wildcard
        self.expansion_size = expansion_size
        self.match: dict = {}
        self.expansions: dict = {}

    def _fill(self, pattern: dict) -> dict:
        filled = {}
        for name, wanted in pattern.items():
            if wanted == ["MATCH"]:
                filled[name] = self.match.setdefault(name, self.wildcard())
            elif isinstance(wanted, list):
                filled[name] = self.wildcard()
            else:
                filled[name] = wanted
        return filled

    def _entries(self, declared_id: str, prop: str, with_value: bool):
        def entry(component_id):
            item = {"id": component_id, "property": prop}
            if with_value:
                item["value"] = self.value_for(component_id, prop.split("@")[0])
            return item

        if not declared_id.startswith("{"):
            return entry(declared_id)
        pattern = json.loads(declared_id)
        if ["ALL"] in pattern.values() or ["ALLSMALLER"] in pattern.values():
            if declared_id not in self.expansions:
                self.expansions[declared_id] = [self._fill(pattern) for _ in range(self.expansion_size())]
            return [entry(i) for i in self.expansions[declared_id]]
        return entry(self._fill(pattern))

    def body(self) -> dict:
        inputs = [self._entries(d["id"], d["property"], True) for d in self.spec["inputs"]]
        state = [self._entries(d["id"], d["property"], True) for d in self.spec.get("state", [])]
        outputs = [self._entries(i, p, False) for i, p in declared_outputs(self.key)]
        changed = []
        for item in inputs:
            for one in item if isinstance(item, list) else [item]:
                cid = one["id"]
                name = json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else cid
                changed.append(f"{name}.{one['property']}")
        return {
            "output": self.key,
            "outputs": outputs if self.key.startswith("..") else outputs[0],
            "inputs": inputs,
            "state": state,
            "changedPropIds": changed[:1],
        }


def routing_body(app, pathname: str, search: str, other=lambda cid, prop: None) -> dict:
    """The call rendering page `pathname` with query `search`."""
    key = next(
        k
        for k, spec in app.callback_map.items()
        if "callback" in spec and k.startswith("..page-content.children") or k == "page-content.children"
    )

    def value_for(component_id, prop):
        if component_id == "url" and prop == "pathname":
            return pathname
        if component_id == "url" and prop == "search":
            return search
        return other(component_id, prop)

    return BodyBuilder(app, key, value_for, lambda: "x", lambda: 0).body()
