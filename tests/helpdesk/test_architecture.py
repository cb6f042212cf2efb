"""The architecture's rules that no linter checks by itself (docs/architecture.md).

`make lint` runs the import contracts (lint-imports); these tests make sure the contracts
cover every module, and that modules stay small enough to read.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from importlinter import cli as importlinter_cli

ROOT = Path(settings.BASE_DIR)
MAX_LINES = 600


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _modules(package: str) -> list[str]:
    """Every module of a package, as a dotted name (migrations as one package)."""
    names = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def _layered() -> list[str]:
    layers = next(c for c in _config()["contracts"] if c["type"] == "layers")["layers"]
    return [name.strip() for layer in layers for name in layer.replace(":", "|").split("|")]


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `make lint` checks, so that `make test` alone also catches an upward import."""
    monkeypatch.chdir(ROOT)
    assert importlinter_cli.lint_imports(no_cache=True, no_logo=True) == 0


def test_every_module_of_the_project_sits_in_a_layer() -> None:
    layered = _layered()
    unplaced = [
        module
        for package in _config()["root_packages"]
        for module in _modules(package)
        if module != package
        and not any(module == name or module.startswith(f"{name}.") for name in layered)
    ]
    assert not unplaced, f"add these to a layer in pyproject.toml: {unplaced}"


def test_no_module_is_longer_than_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in ROOT.glob("**/*.py")
        if not {".venv", "var", "migrations", "node_modules"} & set(path.parts)
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules (at most {MAX_LINES} lines): {long}"


def test_no_file_is_named_for_when_it_was_written() -> None:
    """Names say what code is (tickets/workflow/views.py), not when it was written."""
    dated = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("**/*_workflow*")
        # An applied migration keeps its name: databases record it (tickets 0002).
        if not {".venv", "var", ".git", "migrations"} & set(path.parts)
    ]
    assert not dated
