import pytest


@pytest.fixture
def eager_celery(monkeypatch):  # type: ignore[no-untyped-def]
    """Run tasks inline: the sign-in mail lands in Django's locmem outbox."""
    from helpdesk.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
