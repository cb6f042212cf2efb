from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

MESSAGES = Path(__file__).parent / "messages"


def load(name: str, **replace: str) -> bytes:
    raw = (MESSAGES / name).read_bytes()
    for key, value in replace.items():
        raw = raw.replace(f"@@{key}@@".encode(), value.encode())
    return raw


@pytest.fixture(autouse=True)
def _media(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Attachments and quarantined bytes go to a throwaway directory."""
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield
