"""Benchmark section `load`: requests per second of the whole stack under concurrent agents.

Starts the web server on the bench database (production settings, DEBUG off:
bench/load_settings.py, media in a scratch directory deleted afterwards), then Locust
headless (bench/locustfile.py, one process) with LOAD_AGENTS simulated agents, each a
seeded agent signed in by a session made here, each asking LOAD_PACE requests a second
(Locust's constant_throughput) of a mix of the inbox, a ticket page, a search and a
reply: first for WARMUP seconds, untimed (each worker's first requests compile templates
and fill its caches), then for SECONDS, timed. Then it stops both and reports what Locust
measured: requests per second, p50/p95 per kind of request and over all, errors; the
load average of the host; and the CPU per request of the web workers and of Locust
(they share the host's cores with the database, and on a shared machine with everything
else running): the web workers' figure is the one that decides throughput, requests/s
≈ cores * 1000 / CPU ms.

Environment knobs (the defaults are the issue's workload): TANDEM_LOAD_SERVER (sync:
gunicorn's sync workers; gthread; uvicorn, as docker-compose runs it), TANDEM_LOAD_WORKERS
(4), TANDEM_LOAD_THREADS (gthread's threads per worker, 4), TANDEM_LOAD_AGENTS (25),
TANDEM_LOAD_PACE (2.6 requests a second per agent, i.e. 65 a second offered),
TANDEM_LOAD_SECONDS (60), TANDEM_LOAD_WARMUP (10).
"""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.urls import reverse

from bench import seed as bench_seed
from bench.core import Bench
from helpdesk.launcher import database_url
from tickets.models import OPEN_STATUSES, Ticket

LOAD_RPS, LOAD_P95_MS = 60, 300
SERVERS = {
    "sync": "gunicorn sync workers",
    "gthread": "gunicorn gthread workers",
    "uvicorn": "uvicorn workers (ASGI)",
}
BASE_DIR = Path(__file__).resolve().parent.parent


def _knob(name: str, default: str) -> str:
    return os.environ.get(f"TANDEM_LOAD_{name}", default)


def run(bench: Bench) -> None:
    server_kind = _knob("SERVER", "sync")
    if server_kind not in SERVERS:
        raise ValueError(f"TANDEM_LOAD_SERVER={server_kind!r}: one of {', '.join(SERVERS)}")
    workers, agents = int(_knob("WORKERS", "4")), int(_knob("AGENTS", "25"))
    pace, seconds = float(_knob("PACE", "2.6")), int(_knob("SECONDS", "60"))
    warmup = int(_knob("WARMUP", "10"))
    scratch = Path(tempfile.mkdtemp(prefix="tandem-load-"))
    try:
        plan = scratch / "plan.json"
        plan.write_text(json.dumps(_plan(bench, agents)), encoding="utf-8")
        env = _server_env(scratch)
        (scratch / "var" / "static").mkdir(parents=True)  # WhiteNoise warns of none
        port = _free_port()
        server = subprocess.Popen(
            _server_command(server_kind, workers, port), cwd=BASE_DIR, env=env
        )
        try:
            _wait_until_up(port, server)
            # Every worker compiles its templates, resolves its URLs and fills its
            # per-process caches on its first requests: not the steady state being timed.
            if warmup:
                _locust(scratch / "warmup", plan, port, agents, pace, warmup, quiet=True)
            run = _Run(load_before=os.getloadavg(), web_before=_cpu_seconds(server.pid))
            run.locust_cpu = _locust(
                scratch / "locust", plan, port, agents, pace, seconds, quiet=False
            )
            run.web_cpu = _cpu_seconds(server.pid) - run.web_before
            run.load_after = os.getloadavg()
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        label = f"{agents} agents, {workers} {SERVERS[server_kind]}"
        _report(bench, scratch / "locust", label, pace, seconds, run)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class _Run:
    load_before: tuple[float, float, float]
    web_before: float
    web_cpu: float = 0.0
    locust_cpu: float = 0.0
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _server_command(kind: str, workers: int, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    if kind == "uvicorn":
        return [
            *(sys.executable, "-m", "uvicorn", "helpdesk.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
            *("--log-level", "warning", "--no-access-log"),
        ]
    command = [sys.executable, "-m", "gunicorn", "helpdesk.wsgi:application"]
    command += ["--workers", str(workers), "--bind", bind, "--log-level", "warning"]
    # A request that waits for a core on a loaded host is slow, not a reason to kill its
    # worker (gunicorn's default is 30 s): a killed worker fails its request and takes
    # the CPU it used out of the count.
    command += ["--timeout", "300"]
    if kind == "gthread":
        command += ["--worker-class", "gthread", "--threads", _knob("THREADS", "4")]
    return command


def _plan(bench: Bench, agents: int) -> dict[str, Any]:
    """A signed-in session per simulated agent (seeded agents in turn), the tickets each
    reads and replies to (of those it may see), and the search terms."""
    seats = []
    emails = [
        f"agent{n}@{bench_seed.BENCH_DOMAIN}"
        for n in range(1, bench_seed.MAILBOX_COUNT * bench_seed.AGENTS_PER_TEAM + 1)
    ]
    for n in range(agents):
        user = bench.user(emails[n % len(emails)])
        client = bench.client(user)
        session = client.session
        assert session[SESSION_KEY] == str(user.pk)
        numbers = bench.sample_tickets(user, 160)
        # Replies go to open tickets (a closed one refuses them, a solved one reopens).
        open_ones = Ticket.objects.filter(number__in=numbers[60:], status__in=OPEN_STATUSES)
        seats.append(
            {
                "session": session.session_key,
                "tickets": numbers[:60],
                "reply_tickets": list(open_ones.values_list("number", flat=True)[:20]),
            }
        )
    return {
        "agents": seats,
        "terms": bench.search_terms(60),
        "inbox": reverse("tickets:inbox"),
        "search": reverse("tickets:search"),
    }


def _server_env(scratch: Path) -> dict[str, str]:
    """Production settings on the bench database: the keys this process signed the
    sessions with, DEBUG off, plain HTTP on the loopback."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,
        TANDEM_ENCRYPTION_KEY=",".join(settings.ENCRYPTION_KEYS),
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL="0",
        TANDEM_VAR_DIR=str(scratch / "var"),
        MEDIA_ROOT=str(scratch / "media"),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="bench.load_settings",
    )
    return env


def _cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of the web server's master and workers so far."""
    master = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [master, *master.children(recursive=True)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the web server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the web server did not answer /healthz within 60 s")


def _locust(
    prefix: Path, plan: Path, port: int, agents: int, pace: float, seconds: int, *, quiet: bool
) -> float:
    """Run Locust headless for `seconds`; its stats in `prefix`_stats.csv, its summary on
    stderr unless `quiet`. Returns the CPU seconds Locust itself used: it shares the
    host's cores with the server it measures."""
    env = dict(os.environ, TANDEM_LOAD_PLAN=str(plan), TANDEM_LOAD_PACE=str(pace))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(BASE_DIR / "bench" / "locustfile.py")),
            *("--headless", "--users", str(agents), "--spawn-rate", str(agents)),
            *("--run-time", f"{seconds}s", "--host", f"http://127.0.0.1:{port}"),
            *("--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"),
        ],
        cwd=prefix.parent,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else None,
    )
    # The server is still running, so the only child reaped in between is Locust.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _report(bench: Bench, prefix: Path, label: str, pace: float, seconds: int, run: _Run) -> None:
    with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as stats_file:
        rows = {row["Name"]: row for row in csv.DictReader(stats_file)}
    total = rows["Aggregated"]
    requests, errors = int(total["Request Count"]), int(total["Failure Count"])
    p50, p95 = float(total["50%"]), float(total["95%"])
    elapsed = requests / float(total["Requests/s"]) if float(total["Requests/s"]) else seconds
    web_ms = run.web_cpu * 1000 / max(requests, 1)
    locust_ms = run.locust_cpu * 1000 / max(requests, 1)
    table = ["request | n | errors | p50 ms | p95 ms", "---|---|---|---|---"]
    for name, row in sorted(rows.items(), key=lambda item: item[0] == "Aggregated"):
        table.append(
            f"{'all' if name == 'Aggregated' else name} | {int(row['Request Count'])}"
            f" | {int(row['Failure Count'])} | {row['50%']} | {row['95%']}"
        )
    for line in table:
        bench.note(line)
    with open(f"{prefix}_failures.csv", encoding="utf-8", newline="") as failures_file:
        for failure in csv.DictReader(failures_file):
            bench.note(
                f"{failure['Occurrences']}x {failure['Method']} {failure['Name']}:"
                f" {failure['Error'][:200]}"
            )
    bench.note(
        f"{requests / elapsed:.1f} req/s; web workers {web_ms:.1f} ms CPU per request"
        f" (alone they would fill {os.cpu_count()} cores at"
        f" ~{(os.cpu_count() or 1) * 1000 / max(web_ms, 0.1):.0f} req/s); Locust"
        f" {locust_ms:.1f} ms CPU per request ({run.locust_cpu / elapsed:.0%} of a core)"
    )
    result = bench.rate(
        label,
        requests,
        elapsed,
        unit="req/s",
        target=LOAD_RPS,
        note=(
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (target {LOAD_P95_MS}), {errors} errors;"
            f" {pace:g} req/s offered per agent for {seconds} s; load average"
            f" {run.load_before[0]:.1f} before, {run.load_after[0]:.1f} /"
            f" {run.load_after[1]:.1f} after (1 / 5 min); web workers {web_ms:.1f} ms CPU"
            f" per request, Locust {locust_ms:.1f}"
        ),
    )
    # The rate alone is not the target: the p95 and no errors are part of it.
    result.conditions_met = p95 <= LOAD_P95_MS and not errors
