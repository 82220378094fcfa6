"""Load test of the dashboard: concurrent clients going through realistic sessions.

Each client is a browser stand-in (bench/renderer.py): it opens a page (index, layout,
dependencies, and the callbacks the renderer fires on load), changes filters and other controls
a few times (each change fires the callbacks that follow from it), and downloads one of the
files the downloads page links to; then it starts another session. It reports requests per
second, latency percentiles and errors (any status >= 400, or no answer).

    python -m bench.load --serve var/gsd-demo.duckdb --clients 50 --duration 60
    python -m bench.load --url http://127.0.0.1:8050 --clients 10 --duration 20 --json

--serve starts gunicorn with gunicorn.conf.py on a free loopback port for the run. Only
loopback addresses are accepted as targets. Counts and time are bounded (MAX_CLIENTS,
MAX_DURATION, --max-requests).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from urllib.parse import urlsplit

import requests

from bench.renderer import Renderer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_CLIENTS = 200
MAX_DURATION = 600
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
QUERIES = ["", "", "?gender=Woman", "?ageBroad=18--20&ageBroad=09--17", "?gender=Man&gender=~"]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)  # kind -> seconds
        self.errors = defaultdict(int)  # kind -> count
        self.samples: list[str] = []
        self.sessions = 0
        self.bytes = 0

    def record(self, kind: str, seconds: float, status: int | None, detail: str = "", size: int = 0):
        with self.lock:
            self.latencies[kind].append(seconds)
            self.bytes += size
            if status is None or status >= 400:
                self.errors[kind] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{kind} {status}: {detail[:200]}")

    def total(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.latencies.values())


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q):
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(1000 * ordered[-1], 1),
        "mean": round(1000 * statistics.fmean(ordered), 1),
    }


class Client(threading.Thread):
    def __init__(self, number: int, base: str, stats: Stats, deadline: float, args, pages: list[str]):
        super().__init__(daemon=True, name=f"client-{number}")
        self.base, self.stats, self.deadline, self.args = base, stats, deadline, args
        self.rng = random.Random(args.seed * 1000 + number)
        self.pages = pages
        self.session = requests.Session()

    def http(self, method: str, path: str, json=None):
        if time.monotonic() > self.deadline or self.stats.total() >= self.args.max_requests:
            raise TimeoutError("run over")
        kind = _kind(method, path)
        headers = {}
        if method == "POST":
            headers["X-CSRFToken"] = self.session.cookies.get("_csrf_token", "")
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base + path, json=json, headers=headers, timeout=60, stream=kind == "download"
            )
            size, head = 0, b""
            if kind == "download":  # streamed: read once, keeping the start for an error's detail
                for chunk in response.iter_content(1 << 16):
                    head = head or chunk[:200]
                    size += len(chunk)
            else:
                head = response.content[:200]
                size = len(response.content)
        except requests.RequestException as err:
            self.stats.record(kind, time.perf_counter() - started, None, repr(err))
            return None
        self.stats.record(
            kind,
            time.perf_counter() - started,
            response.status_code,
            head.decode("utf-8", "replace") if response.status_code >= 400 else "",
            size,
        )
        if response.status_code >= 400 or kind in ("page", "download"):
            return None
        return response.json() if response.content else None

    def think(self):
        if self.args.think:
            time.sleep(self.rng.uniform(0.5, 1.5) * self.args.think)

    def run(self):
        renderer = Renderer(self.http, self.rng)
        try:
            while time.monotonic() < self.deadline:
                path = self.rng.choice(self.pages) + self.rng.choice(QUERIES)
                renderer.load(path)
                self.think()
                for _ in range(self.rng.randint(2, 5)):
                    renderer.change_a_control()
                    self.think()
                downloads = [p for p in self.pages if "download" in p]
                if downloads and self.rng.random() < self.args.download_share:
                    renderer.load(downloads[0])
                    links = renderer.links("/download/")
                    if links:
                        self.http("GET", self.rng.choice(links))
                    self.think()
                with self.stats.lock:
                    self.stats.sessions += 1
        except TimeoutError:
            pass


def _kind(method: str, path: str) -> str:
    if method == "POST":
        return "callback"
    if path.startswith("/download/"):
        return "download"
    if path.startswith("/_dash-layout"):
        return "layout"
    if path.startswith("/_dash-dependencies"):
        return "dependencies"
    return "page"


def discover_pages(base: str) -> list[str]:
    """The pages the app's navigation links to."""
    session = requests.Session()
    session.get(base + "/", timeout=30).raise_for_status()
    renderer = Renderer(None, random.Random(0))  # only its page and links: no requests
    layout = session.get(base + "/_dash-layout", timeout=30).json()
    renderer.page.index(layout)
    pages = [href for href in renderer.links("/") if not href.startswith("/download/")]
    return pages or ["/"]


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a process and its descendants, from /proc (Linux)."""
    try:
        parents, cpu = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            cpu[int(entry)] = int(fields[11]) + int(fields[12])
        tree, changed = {pid}, True
        while changed:
            grown = tree | {p for p, parent in parents.items() if parent in tree}
            changed, tree = grown != tree, grown
        return sum(cpu.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None


def serve(store: str, workers: int | None, log_path: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GSD_STORE": os.path.abspath(store), "GSD_BIND": f"127.0.0.1:{port}"}
    if workers:
        env["GSD_WORKERS"] = str(workers)
    binary = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [binary, "-c", os.path.join(ROOT, "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.terminate()
    with open(log_path, "rb") as handle:
        raise SystemExit(f"gunicorn did not serve the store: {handle.read().decode()[-2000:]}")


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running app on a loopback address")
    target.add_argument("--serve", metavar="STORE", help="start gunicorn on this store for the run")
    parser.add_argument("--workers", type=int, help="gunicorn workers with --serve (default: gunicorn.conf.py)")
    parser.add_argument(
        "--server-log",
        default=os.path.join(ROOT, "var", "load-server.log"),
        help="gunicorn's log with --serve (appended)",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a client's actions, s")
    parser.add_argument("--download-share", type=float, default=1.0, help="share of sessions ending in a download")
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--clients must be 1..{MAX_CLIENTS} and --duration 0..{MAX_DURATION}")
    if args.url and urlsplit(args.url).hostname not in LOOPBACK:
        parser.error("only a loopback address (127.0.0.1, localhost, ::1) may be load tested")
    return args


def run_clients(args: argparse.Namespace) -> dict:
    """Serve (with --serve) and load the app for the duration; the figures as one dict."""
    process = None
    if args.serve:
        os.makedirs(os.path.dirname(os.path.abspath(args.server_log)), exist_ok=True)
        process, base = serve(args.serve, args.workers, args.server_log)
    else:
        base = args.url.rstrip("/")
    server_cpu = None
    try:
        pages = discover_pages(base)
        stats = Stats()
        server_cpu_before = tree_cpu_seconds(process.pid) if process else None
        client_cpu_before = time.process_time()
        started = time.monotonic()
        deadline = started + args.duration
        clients = [Client(n, base, stats, deadline, args, pages) for n in range(args.clients)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=args.duration + 120)
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - client_cpu_before
        if process is not None and server_cpu_before is not None:
            after = tree_cpu_seconds(process.pid)
            server_cpu = None if after is None else after - server_cpu_before
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)

    every = [s for values in stats.latencies.values() for s in values]
    return {
        "target": base,
        "server_log": args.server_log if process else None,
        "clients": args.clients,
        "duration_s": round(elapsed, 1),
        "think_s": args.think,
        "pages": pages,
        "sessions": stats.sessions,
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "errors": sum(stats.errors.values()),
        "latency_ms": percentiles(every),
        "by_kind": {
            kind: {"requests": len(values), "errors": stats.errors.get(kind, 0), **percentiles(values)}
            for kind, values in sorted(stats.latencies.items())
        },
        "megabytes": round(stats.bytes / 1e6, 1),
        # CPU used during the run (s), to judge how much the load generator itself took, and
        # the server's CPU per request: steadier than latencies on a machine shared with others.
        "cpu_s": {
            "clients": round(client_cpu, 1),
            "server": None if server_cpu is None else round(server_cpu, 1),
            "cores": os.cpu_count(),
        },
        "server_cpu_ms_per_request": None
        if server_cpu is None or not every
        else round(1000 * server_cpu / len(every), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "error_samples": stats.samples,
    }


def print_report(report: dict) -> None:
    lat = report["latency_ms"]
    cpu = report["cpu_s"]
    print(
        f"CPU: clients {cpu['clients']} s, server {cpu['server']} s "
        f"({report['server_cpu_ms_per_request']} ms a request), on {cpu['cores']} cores; "
        f"load average after the run {report['load_average']}"
    )
    print(
        f"{report['clients']} clients, {report['duration_s']} s, {report['sessions']} sessions, "
        f"{report['requests']} requests: {report['requests_per_s']} req/s, {report['errors']} errors"
    )
    print(f"latency ms: p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}")
    for kind, row in report["by_kind"].items():
        print(
            f"  {kind:13} {row['requests']:7} req  {row['errors']:4} err  p50 {row['p50']}  "
            f"p95 {row['p95']}  p99 {row['p99']}"
        )
    for sample in report["error_samples"]:
        print("  error:", sample)


def main(argv=None) -> int:
    args = parse_arguments(argv)
    report = run_clients(args)
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
