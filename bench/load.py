"""Benchmark section `load`: requests per second of the whole stack under concurrent agents.

Starts gunicorn on the bench database (production settings, DEBUG off: bench/load_settings.py,
media in a scratch directory deleted afterwards), then Locust headless
(bench/locustfile.py) with LOAD_AGENTS simulated agents, each a seeded agent signed in
by a session made here, each asking LOAD_PACE requests a second (Locust's
constant_throughput) of a mix of the inbox, a ticket page, a search and a reply; then
stops both and reports what Locust measured: requests per second, p50/p95 over every
request, errors, and the load average of the host (Locust and gunicorn share its cores
with the database, and on a shared machine with everything else running).

Environment knobs (the defaults are the issue's workload): TANDEM_LOAD_WORKERS (4),
TANDEM_LOAD_AGENTS (25), TANDEM_LOAD_PACE (2.6 requests a second per agent, i.e. 65 a
second offered), TANDEM_LOAD_SECONDS (60).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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
BASE_DIR = Path(__file__).resolve().parent.parent


def _knob(name: str, default: str) -> str:
    return os.environ.get(f"TANDEM_LOAD_{name}", default)


def run(bench: Bench) -> None:
    workers, agents = int(_knob("WORKERS", "4")), int(_knob("AGENTS", "25"))
    pace, seconds = float(_knob("PACE", "2.6")), int(_knob("SECONDS", "60"))
    scratch = Path(tempfile.mkdtemp(prefix="tandem-load-"))
    try:
        plan = scratch / "plan.json"
        plan.write_text(json.dumps(_plan(bench, agents)), encoding="utf-8")
        env = _server_env(scratch)
        (scratch / "var" / "static").mkdir(parents=True)  # WhiteNoise warns of none
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "helpdesk.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=env,
        )
        try:
            _wait_until_up(port, server)
            load_before = os.getloadavg()[0]
            cpu_before = _cpu_seconds(server.pid)
            _locust(scratch, plan, port, agents, pace, seconds)
            web_cpu = _cpu_seconds(server.pid) - cpu_before
            load_after = os.getloadavg()
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        _report(bench, scratch, workers, agents, pace, seconds, load_before, load_after, web_cpu)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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
    """CPU time (user and system) of gunicorn's master and workers so far."""
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
            raise RuntimeError(f"gunicorn exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def _locust(scratch: Path, plan: Path, port: int, agents: int, pace: float, seconds: int) -> None:
    env = dict(os.environ, TANDEM_LOAD_PLAN=str(plan), TANDEM_LOAD_PACE=str(pace))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(BASE_DIR / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(agents),
            "--spawn-rate",
            str(agents),
            "--run-time",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(scratch / "locust"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=scratch,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )


def _report(
    bench: Bench,
    scratch: Path,
    workers: int,
    agents: int,
    pace: float,
    seconds: int,
    load_before: float,
    load_after: tuple[float, float, float],
    web_cpu: float,
) -> None:
    with open(scratch / "locust_stats.csv", encoding="utf-8", newline="") as stats_file:
        rows = {row["Name"]: row for row in csv.DictReader(stats_file)}
    for name, row in rows.items():
        if name == "Aggregated":
            continue
        bench.note(
            f"{name}: {int(row['Request Count'])} requests, {int(row['Failure Count'])} errors,"
            f" p50 {row['50%']} ms, p95 {row['95%']} ms"
        )
    total = rows["Aggregated"]
    requests, errors = int(total["Request Count"]), int(total["Failure Count"])
    p50, p95 = float(total["50%"]), float(total["95%"])
    result = bench.rate(
        f"{agents} agents, {workers} gunicorn workers",
        requests,
        requests / float(total["Requests/s"]) if float(total["Requests/s"]) else seconds,
        unit="req/s",
        target=LOAD_RPS,
        note=(
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (target {LOAD_P95_MS}), {errors} errors;"
            f" {pace:g} req/s offered per agent for {seconds} s; load average {load_before:.1f}"
            f" before, {load_after[0]:.1f} / {load_after[1]:.1f} after (1 / 5 min); gunicorn's"
            f" workers used {web_cpu * 1000 / max(requests, 1):.0f} ms of CPU per request"
        ),
    )
    # The rate alone is not the target: the p95 and no errors are part of it.
    result.conditions_met = p95 <= LOAD_P95_MS and not errors
