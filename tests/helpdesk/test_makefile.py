"""`make run` / `make test` find a Python 3.12+ wherever .ci/run does: on PATH, in pyenv,
or through uv. A machine whose python3 is 3.11 with 3.12 under pyenv was told it needed
Python 3.12."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="no make on this machine")
def test_the_makefile_finds_a_python_under_pyenv(tmp_path: Path) -> None:
    python = tmp_path / ".pyenv/versions/3.12.99/bin/python3"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)  # the Python running the tests: 3.12 or newer
    bare = tmp_path / "bin"  # a PATH with make and a shell, and no python at all
    bare.mkdir()
    for tool in ("sh", "bash", "ls", "sort", "make"):
        found = shutil.which(tool)
        assert found is not None
        (bare / tool).symlink_to(found)
    result = subprocess.run(
        [str(bare / "make"), "--no-print-directory", "which-python"],
        cwd=settings.BASE_DIR,
        env={"HOME": str(tmp_path), "PATH": str(bare)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == str(python)
