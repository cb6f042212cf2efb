from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TANDEM_VAR_DIR whose static/ holds collectstatic's output, as a deployment has."""
    var = tmp_path_factory.mktemp("var")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "SECRET_KEY": "collect-only",
            "DEBUG": "0",
            "TANDEM_VAR_DIR": str(var),
        },
        check=True,
    )
    return var


def check_tandem(**env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check --tag tandem` (the deployment checks) in a bare environment."""
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--tag", "tandem"],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=False,
    )
