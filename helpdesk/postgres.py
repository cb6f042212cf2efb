"""What the PostgreSQL in use offers beyond the core: extensions some searches use."""

from __future__ import annotations

from django.db import connection

_trigram_by_database: dict[str, bool] = {}


def trigram_available() -> bool:
    """Whether pg_trgm is installed in this database (checked once per process). The
    embedded PostgreSQL of `make run` ships without it; typo-tolerant searches skip
    their trigram step there."""
    name = str(connection.settings_dict["NAME"])
    if name not in _trigram_by_database:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _trigram_by_database[name] = cursor.fetchone() is not None
    return _trigram_by_database[name]
