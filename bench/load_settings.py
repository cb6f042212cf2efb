"""Settings of the gunicorn that `make bench`'s load section starts (bench/load.py): the
production settings, with static files named as they are (no manifest), so the run
needs no collectstatic (compressing every file costs ~50 s of CPU) and never serves them."""

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
