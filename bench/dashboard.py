"""Benchmark of the dashboard's callbacks: server time over HTTP beside the raw time of the data
work each one does (DuckDB queries, counting on the records' codes in memory).

    python -m bench.dashboard [--store var/gsd-demo.duckdb] [--repeats 3] [--rounds 2] [--json]
        [--lang en --lang fr ...]

The app is served on 127.0.0.1 (werkzeug, threaded, the configured flask-caching backend). For
each representative filter, each callback is POSTed to /_dash-update-component as the browser
would (with the CSRF cookie and header): once on an empty cache ("cold": the queries run) and
then `--repeats` times more ("warm": answered from the cache). The server time is measured inside
the served WSGI app (from the request reaching it to its response); the client's round trip is
shown beside it. Beside it, the queries the
callback runs are timed directly on the store ("raw", median of three runs). The targets: the
cold p95 at most 100 ms and at most 3 × the raw p95.

With `--lang` (repeatable) the pages are asked for in each language, as a page in that language
asks (its addresses and the `lang` key the renderer adds to each callback body): the languages
take turns on each filter, each on an emptied cache, and each callback's cold p50 and p95 and its
CPU time per answer are compared with the first language's (the target: within 10 %).

The callbacks and filters timed are in bench/dashboard_cases.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time

import requests

import i18n
from bench.dashboard_cases import CASES, FILTERS, Case
from bench.renderer import split_output
from data.store import Filter, Store

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_MS = 100.0
TARGET_RATIO = 3.0

# --- the server and the client -------------------------------------------------------------


class Server:
    def __init__(self, store_path: str):
        import logging

        from werkzeug.serving import make_server

        from app import create_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.app = create_app(store_path)
        self.app.server.wsgi_app = _timed(self.app.server.wsgi_app)
        self._server = make_server("127.0.0.1", 0, self.app.server, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def clear_cache(self) -> None:
        self.app.server.config["GSD_SERVICE"].cache.clear()

    def stop(self) -> None:
        self._server.shutdown()


SERVER_TIME = "X-Bench-Server-Ms"
SERVER_CPU = "X-Bench-Server-Cpu-Ms"


def _timed(wsgi_app):
    """The app, telling in response headers how long the server took to produce it (from the
    request reaching the app to the response's start: Dash answers are not streamed) and the CPU
    time the process spent meanwhile (requests come one at a time, so that is this request's;
    unlike the elapsed time it does not grow with the machine's load)."""

    def app(environ, start_response):
        started, started_cpu = time.perf_counter(), time.process_time()

        def start(status, headers, exc_info=None):
            headers.append((SERVER_TIME, f"{(time.perf_counter() - started) * 1000:.3f}"))
            headers.append((SERVER_CPU, f"{(time.process_time() - started_cpu) * 1000:.3f}"))
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return app


class Client:
    def __init__(self, server: Server):
        self.server = server
        self.session = requests.Session()
        self.session.get(server.url + "/").raise_for_status()  # the page issues the CSRF cookie
        config = server.app.config
        self.headers = {
            config.csrf_header_name: self.session.cookies.get(config.csrf_token_name, ""),
            "Content-Type": "application/json",
        }
        self.outputs = list(server.app.callback_map)

    def output_key(self, case: Case) -> str:
        found = [k for k in self.outputs if case.output in k]
        if len(found) != 1:
            raise SystemExit(f"{case.name}: {len(found)} callbacks match {case.output!r}")
        return found[0]

    def post(self, body: dict) -> tuple[float, float, float]:
        """(server time, server CPU time, round trip seen by the client) of one callback request, in ms."""
        started = time.perf_counter()
        response = self.session.post(self.server.url + "/_dash-update-component", json=body, headers=self.headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code not in (200, 204):
            raise SystemExit(f"callback answered {response.status_code}: {response.text[:200]}")
        return float(response.headers[SERVER_TIME]), float(response.headers[SERVER_CPU]), elapsed


def as_sent(body: dict, key: str) -> dict:
    """The body as the renderer sends it: the callback's key as `output`, and each output's
    property as the key spells it (with "@hash" where the output allows duplicates)."""
    properties = [prop for _, prop in split_output(key)]
    outputs = body["outputs"] if key.startswith("..") else [body["outputs"]]
    renamed = []
    for item, prop in zip(outputs, properties):
        if isinstance(item, list):
            renamed.append([dict(one, property=prop) for one in item])
        else:
            renamed.append(dict(item, property=prop))
    return dict(body, output=key, outputs=renamed if key.startswith("..") else renamed[0])


# --- measuring -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def raw_ms(store: Store, case: Case, flt: Filter) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        case.queries(store, flt)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(
    store_path: str, repeats: int, cases: list[Case] = None, rounds: int = 1, languages: tuple[str, ...] = ("en",)
) -> list[dict]:
    """One report per language. With several, the languages take turns on each filter, each on an
    emptied cache, so that they meet the same load of the machine."""
    cases = cases or CASES
    server = Server(store_path)
    store = Store(store_path)
    try:
        client = Client(server)
        mappings = [m for m in FILTERS if _valid(store, m)]
        results: dict[str, list] = {code: [] for code in languages}
        for case in cases:
            key = client.output_key(case)
            samples = {code: ([], [], [], [], []) for code in languages}  # cold, cpu, warm, raw, round trips
            for _ in range(rounds):
                server.clear_cache()
                for mapping in mappings:
                    raw = raw_ms(store, case, store.filter(mapping))
                    for code in languages:
                        if len(languages) > 1:
                            server.clear_cache()
                        if case.prepare is not None:
                            case.prepare(server)
                        with i18n.language(code):
                            body = dict(as_sent(case.request(store, mapping), key), lang=code)
                        cold, cpu, warm, raws, round_trips = samples[code]
                        server_ms, cpu_ms, http_ms = client.post(body)
                        cold.append(server_ms)
                        cpu.append(cpu_ms)
                        round_trips.append(http_ms)
                        warm.extend(client.post(body)[0] for _ in range(repeats))
                        raws.append(raw)
            for code, (cold, cpu, warm, raws, round_trips) in samples.items():
                results[code].append(summarize(case.name, cold, cpu, warm, raws, round_trips))
        about = {
            "store": os.path.relpath(store_path, ROOT) if store_path.startswith(ROOT) else store_path,
            "records": store.release["synthetic_record_count"],
            "filters": len(mappings),
            "rounds": rounds,
            "cache": os.environ.get("GSD_CACHE", "simple"),
            "load_average": round(os.getloadavg()[0], 2),
        }
        return [{**about, "language": code, "callbacks": results[code]} for code in languages]
    finally:
        store.close()
        server.stop()


def _valid(store: Store, mapping: dict) -> bool:
    try:
        store.filter(mapping)
        return True
    except ValueError:
        return False


def summarize(
    name: str, cold: list[float], cpu: list[float], warm: list[float], raw: list[float], round_trips: list[float]
) -> dict:
    out = {
        "callback": name,
        "n": len(cold),
        "cold_p50_ms": percentile(cold, 0.5),
        "cold_p95_ms": percentile(cold, 0.95),
        "cpu_p50_ms": percentile(cpu, 0.5),
        "cpu_p95_ms": percentile(cpu, 0.95),
        "http_p50_ms": percentile(round_trips, 0.5),
        "http_p95_ms": percentile(round_trips, 0.95),
        "warm_p50_ms": percentile(warm, 0.5),
        "warm_p95_ms": percentile(warm, 0.95),
        "raw_p50_ms": percentile(raw, 0.5),
        "raw_p95_ms": percentile(raw, 0.95),
    }
    has_queries = out["raw_p95_ms"] > 0.05
    out["ratio_p50"] = out["cold_p50_ms"] / out["raw_p50_ms"] if has_queries else None
    out["ratio_p95"] = out["cold_p95_ms"] / out["raw_p95_ms"] if has_queries else None
    out["meets_target"] = out["cold_p95_ms"] <= TARGET_MS and (not has_queries or out["ratio_p95"] <= TARGET_RATIO)
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in out.items()}


def compare_languages(reports: list[dict]) -> dict[str, dict[str, list[float]]]:
    """Per callback, each further language's cold [p50, p95, CPU p50] as ratios of the first report's
    (the CPU time per answer is the steadiest on a loaded machine)."""
    figures = ("cold_p50_ms", "cold_p95_ms", "cpu_p50_ms")
    base = {r["callback"]: r for r in reports[0]["callbacks"]}
    ratios: dict[str, dict[str, list[float]]] = {name: {} for name in base}
    for report in reports[1:]:
        for r in report["callbacks"]:
            first = base[r["callback"]]
            if all(first[f] > 0 for f in figures):
                ratios[r["callback"]][report["language"]] = [round(r[f] / first[f], 3) for f in figures]
    return ratios


def print_text(report: dict) -> None:
    print(
        f"[{report['language']}] store {report['store']}: {report['records']:,} records; "
        f"{report['filters']} filters × "
        f"{report['rounds']} rounds; load average {report['load_average']:.1f}; "
        f"cache {report['cache']}; server times in ms (cold = empty cache, warm = cached; "
        f"cpu = the server's CPU time of a cold answer; http = cold round trip seen by the client)"
    )
    header = (
        f"{'callback':46} {'cold p50':>9} {'cold p95':>9} {'cpu p50':>8} {'cpu p95':>8} {'warm p50':>9} "
        f"{'http p95':>9} {'raw p50':>8} {'raw p95':>8} {'×raw p50':>8} {'×raw p95':>8}  target"
    )
    print(header)
    for r in report["callbacks"]:
        ratio = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        print(
            f"{r['callback']:46} {r['cold_p50_ms']:9.1f} {r['cold_p95_ms']:9.1f} {r['cpu_p50_ms']:8.1f} "
            f"{r['cpu_p95_ms']:8.1f} {r['warm_p50_ms']:9.1f} "
            f"{r['http_p95_ms']:9.1f} {r['raw_p50_ms']:8.1f} {r['raw_p95_ms']:8.1f} {ratio(r['ratio_p50']):>8} "
            f"{ratio(r['ratio_p95']):>8}  {'met' if r['meets_target'] else 'MISSED'}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from app import DEFAULT_STORE

    parser.add_argument("--store", default=os.environ.get("GSD_STORE", DEFAULT_STORE))
    parser.add_argument("--repeats", type=int, default=3, help="warm requests per filter")
    parser.add_argument(
        "--rounds", type=int, default=2, help="cold passes over the filters (cache emptied before each)"
    )
    parser.add_argument(
        "--lang",
        action="append",
        choices=i18n.LANGUAGES,
        help="the pages' language (repeat to compare languages with the first)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    reports = run(args.store, args.repeats, rounds=args.rounds, languages=tuple(args.lang or ["en"]))
    if args.json:
        print(
            json.dumps(
                reports[0]
                if len(reports) == 1
                else {"reports": reports, "cold_p50_p95_cpu_p50_ratio": compare_languages(reports)},
                indent=2,
            )
        )
    else:
        for report in reports:
            print_text(report)
        if len(reports) > 1:
            print_comparison(compare_languages(reports))
    return 0 if all(r["meets_target"] for report in reports for r in report["callbacks"]) else 1


def print_comparison(ratios: dict[str, dict[str, list[float]]]) -> None:
    languages = sorted({code for by_language in ratios.values() for code in by_language})
    print("cold p50 / cold p95 / cpu p50 against the first language: " + "  ".join(f"{code:>17}" for code in languages))
    for callback, by_language in ratios.items():
        cells = [by_language.get(code) for code in languages]
        print(f"{callback:46} " + "  ".join("/".join(f"{v:5.2f}" for v in c) if c else f"{'–':>17}" for c in cells))


if __name__ == "__main__":
    sys.exit(main())
