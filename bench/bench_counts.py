"""Counts, widget and badge benchmark: are the public count endpoints as cheap as a trivial route?

One gunicorn server (bench/wsgi_counts.py: the real app plus /bench/ping) on loopback, loaded
with wrk, all in one run:
  - /api/v1/counts, /widget/union/neu (the iframe) and /badge/union/neu.svg (the badge);
  - the same three with If-None-Match set to their current ETag: the 304 Not Modified path
    that polling widgets, browsers and CDNs revalidate through (checked to be 304 first);
  - /bench/ping, a trivial Flask route in the same app, run before the first target and after
    every target, so that each target is compared with the trivial route measured either side
    of it. On a shared machine the load from other work comes and goes; comparing neighbours,
    over several rounds, and taking medians keeps that out of the ratio.
It reports requests per second, median and 99th-percentile latency, throughput as a share of the
trivial route's, and the server's CPU time per request (gunicorn's processes, from /proc) with
the trivial route's as a share of it.

Every request goes to 127.0.0.1; durations, rounds and connections are capped. The server runs
with RATELIMIT_ENABLED=false, because all of wrk's connections share one address.

    apt-get install wrk
    .venv/bin/python bench/bench_counts.py                        # SQLite, 5 rounds of 4 s runs
    .venv/bin/python bench/bench_counts.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this script ever sends to
MAX_SECONDS = 30
MAX_ROUNDS = 10
MAX_CONNECTIONS = 256
TRIVIAL = ("trivial route", "/bench/ping", False)
TARGETS = [
    ("counts JSON", "/api/v1/counts", False),
    ("iframe", "/widget/union/neu", False),
    ("badge", "/badge/union/neu.svg", False),
    ("counts JSON, 304", "/api/v1/counts", True),
    ("iframe, 304", "/widget/union/neu", True),
    ("badge, 304", "/badge/union/neu.svg", True),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def prepare_database(env: dict[str, str]) -> None:
    """Migrations, reference data and 240 confirmed demo signatures (so the counts are not zero)."""
    for command in (["db", "upgrade"], ["seed", "--demo", "240"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def start_server(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.wsgi_counts:app",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def etag_of(port: int, path: str) -> str:
    """The current ETag, after checking that sending it back really gets 304 Not Modified."""
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=5) as response:
        etag = response.headers["ETag"]
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return etag
    raise RuntimeError(f"{path} did not answer 304 to its own ETag")


def server_cpu_seconds(master_pid: int) -> float:
    """User and system CPU time of gunicorn's master and workers so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid == master_pid or parent == master_pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def parse_latency(text: str) -> float:
    """wrk's '1.23ms' / '456.00us' / '1.02s' in milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(port: int, master_pid: int, path: str, headers: dict[str, str], seconds: int, connections: int) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    cpu_before = server_cpu_seconds(master_pid)
    output = subprocess.run(
        [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    cpu = server_cpu_seconds(master_pid) - cpu_before
    requests_done = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": parse_latency(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99_ms": parse_latency(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "cpu_us_per_request": 1e6 * cpu / max(requests_done, 1),
        "bad_responses": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def run_round(port: int, master_pid: int, seconds: int, connections: int) -> list[dict]:
    """The trivial route, then each target followed by the trivial route again."""

    def run(name: str, path: str, conditional: bool) -> dict:
        headers = {"If-None-Match": etag_of(port, path)} if conditional else {}
        return {"name": name, "path": path, **run_wrk(port, master_pid, path, headers, seconds, connections)}

    results, before = [], run(*TRIVIAL)
    pings = [before]
    for target in TARGETS:
        result, after = run(*target), run(*TRIVIAL)
        neighbours = (before, after)
        result["share_of_trivial"] = result["requests_per_second"] / statistics.mean(
            r["requests_per_second"] for r in neighbours
        )
        result["cpu_share_of_trivial"] = (
            statistics.mean(r["cpu_us_per_request"] for r in neighbours) / result["cpu_us_per_request"]
        )
        results.append(result)
        pings.append(after)
        before = after
    for ping in pings:
        ping["share_of_trivial"] = ping["cpu_share_of_trivial"] = 1.0
    return [{**pings[0], "runs": pings}, *results]


KEYS = ("requests_per_second", "p50_ms", "p99_ms", "share_of_trivial", "cpu_us_per_request", "cpu_share_of_trivial")


def summarise(rounds: list[list[dict]]) -> list[dict]:
    """Medians over the rounds: every run of the trivial route, and each target's runs."""
    pings = [ping for round_ in rounds for ping in round_[0]["runs"]]
    summary = [{"name": TRIVIAL[0], "path": TRIVIAL[1], **{k: statistics.median(p[k] for p in pings) for k in KEYS}}]
    for i, (name, path, _) in enumerate(TARGETS, start=1):
        runs = [round_[i] for round_ in rounds]
        summary.append({"name": name, "path": path, **{k: statistics.median(run[k] for run in runs) for k in KEYS}})
        summary[-1]["bad_responses"] = sum(run["bad_responses"] for run in runs)
    return summary


def table(summary: list[dict]) -> str:
    lines = [
        "| Target | Requests/s | Median ms | p99 ms | Throughput vs trivial | Server CPU µs/request | CPU vs trivial |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in summary:
        lines.append(
            f"| {row['name']} (`{row['path']}`) | {row['requests_per_second']:,.0f} | {row['p50_ms']:.2f} "
            f"| {row['p99_ms']:.2f} | {100 * row['share_of_trivial']:.0f}% | {row['cpu_us_per_request']:.0f} "
            f"| {100 * row['cpu_share_of_trivial']:.0f}% |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a new SQLite file)")
    parser.add_argument("--duration", type=int, default=4, help=f"seconds per run (max {MAX_SECONDS})")
    parser.add_argument("--rounds", type=int, default=5, help=f"rounds, reported as medians (max {MAX_ROUNDS})")
    parser.add_argument("--connections", type=int, default=32, help=f"wrk connections (max {MAX_CONNECTIONS})")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the README's production setup)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("This benchmark needs wrk: apt-get install wrk")
    seconds = max(1, min(args.duration, MAX_SECONDS))
    rounds = max(1, min(args.rounds, MAX_ROUNDS))
    connections = max(1, min(args.connections, MAX_CONNECTIONS))

    with tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        env = {
            **os.environ,
            "APP_ENV": "development",
            "INSTANCE_PATH": scratch,
            "DATABASE_URL": args.database_url or f"sqlite:///{scratch}/bench.db",
            "SITE_URL": f"http://{HOST}:{port}",
            "RATELIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
        prepare_database(env)
        server = start_server(env, port, args.workers, args.threads)
        try:
            for _, path, _ in [TRIVIAL, *TARGETS]:  # warm every worker's caches and connections
                for _ in range(20):
                    urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=5).read()
            results = [run_round(port, server.pid, seconds, connections) for _ in range(rounds)]
        finally:
            server.terminate()
            server.wait(timeout=10)

    summary = summarise(results)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{database}; gunicorn --workers {args.workers} --threads {args.threads}; wrk -t1 -c{connections}, "
        f"{seconds} s per run, {rounds} rounds (medians); {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(table(summary))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"counts-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"database": database, "rounds": results, "summary": summary}, indent=2))
    print(f"\nEvery run: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
