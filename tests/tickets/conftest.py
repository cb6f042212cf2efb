"""Fixtures for the ticket workflow tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpdesk.celery import app


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process: the notification task's effect (mail) is what tests check."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
