"""`make bench`'s load section (bench/load.py, bench/locustfile.py): the servers it can
start, Locust's cheaper client, and a report that gives the figures throughput depends
on (the web workers' and Locust's CPU per request) beside the rate, p50/p95 and errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import load
from bench.core import Bench

STATS = """Type,Name,Request Count,Failure Count,Requests/s,50%,95%
GET,inbox,400,0,6.5,40,120
POST,reply,100,2,1.6,80,400
,Aggregated,500,2,8.1,45,350
"""
FAILURES = """Method,Name,Error,Occurrences
POST,reply,LocustBadStatusCode(code=500),2
"""


def test_the_servers_it_starts() -> None:
    sync = load._server_command("sync", 4, 8123)
    assert sync[2:4] == ["gunicorn", "helpdesk.wsgi:application"] and "--worker-class" not in sync
    assert "gthread" in load._server_command("gthread", 2, 8123)
    uvicorn = load._server_command("uvicorn", 3, 8123)
    assert uvicorn[2:4] == ["uvicorn", "helpdesk.asgi:application"]
    assert uvicorn[uvicorn.index("--workers") + 1] == "3"


def test_the_report_gives_each_request_kind_errors_and_cpu_per_request(tmp_path: Path) -> None:
    (tmp_path / "locust_stats.csv").write_text(STATS, encoding="utf-8")
    (tmp_path / "locust_failures.csv").write_text(FAILURES, encoding="utf-8")
    out = io.StringIO()
    bench = Bench(out=out, tickets=0)
    bench.section = "load"
    run = load._Run(load_before=(3.0, 2.0, 1.0), web_before=0.0, web_cpu=15.0, locust_cpu=1.5)
    load._report(bench, tmp_path / "locust", "25 agents, 4 gunicorn sync workers", 2.6, 60, run)
    text = out.getvalue()
    assert "inbox | 400 | 0 | 40 | 120" in text and "all | 500 | 2 | 45 | 350" in text
    assert "2x POST reply: LocustBadStatusCode(code=500)" in text
    # 15 s of the workers' CPU and 1.5 s of Locust's over 500 requests.
    assert "web workers 30.0 ms CPU per request" in text and "Locust 3.0 ms CPU" in text
    (result,) = bench.results
    assert result.conditions_met is False  # p95 350 ms and 2 errors


def test_locust_uses_its_fast_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"agents": [], "terms": [], "inbox": "/", "search": "/s"}))
    monkeypatch.setenv("TANDEM_LOAD_PLAN", str(plan))
    # In a process of its own: importing Locust patches the standard library (gevent).
    code = (
        "import runpy; from locust import FastHttpUser; "
        "agent = runpy.run_path('bench/locustfile.py')['Agent']; "
        "print(issubclass(agent, FastHttpUser))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=load.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "True"
