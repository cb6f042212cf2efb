"""The launcher's DATABASE_URL for child processes reads back as the same database."""

from __future__ import annotations

from typing import Any

import dj_database_url
import pytest

from helpdesk.launcher import database_url

KEYS = ("USER", "PASSWORD", "HOST", "PORT", "NAME")


@pytest.mark.parametrize(
    "db",
    [
        {"USER": "postgres", "HOST": "127.0.0.1", "PORT": 5432, "NAME": "test_tandem_gw0"},
        # The embedded server: a socket directory, no port. Capitals and a space too, as
        # in a checkout under /Users/Ana Lima/.
        {"USER": "postgres", "HOST": "/work/main/var/pg", "PORT": "", "NAME": "test_tandem"},
        {"USER": "postgres", "HOST": "/Users/Ana Lima/Tandem/var/pg", "NAME": "tandem"},
        {"USER": "tan dem", "PASSWORD": "p@ss:w/rd%", "HOST": "db", "PORT": 6432, "NAME": "t"},
        {"USER": "postgres", "HOST": "::1", "PORT": 5432, "NAME": "tandem"},
        {"USER": "", "HOST": "", "PORT": "", "NAME": "tandem"},
    ],
)
def test_database_url_reads_back_as_the_same_database(db: dict[str, Any]) -> None:
    parsed: dict[str, Any] = dict(dj_database_url.parse(database_url(db)))
    expected = {key: db.get(key) or "" for key in KEYS}
    assert {key: parsed[key] for key in KEYS} == expected
    assert parsed["ENGINE"] == "django.db.backends.postgresql"


def test_a_socket_directory_is_percent_encoded_whole() -> None:
    url = database_url({"USER": "postgres", "HOST": "/path/to/dir", "NAME": "dbname"})
    assert url == "postgres://postgres@%2Fpath%2Fto%2Fdir/dbname"
