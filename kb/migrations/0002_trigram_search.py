"""Typo-tolerant search: pg_trgm and a trigram index on article titles, where available.

The embedded PostgreSQL of `make run` (PyPI pgserver) ships without pg_trgm; there the
migration does nothing and kb.search skips its trigram step. On a PostgreSQL that has the
extension (Debian, the postgres image) it is created (trusted since PostgreSQL 13, so the
database owner may create it) together with the index serving `title %> query`.
"""

from django.db import migrations

FORWARD = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX IF NOT EXISTS kb_article_title_trgm
            ON kb_article USING gin (title gin_trgm_ops);
    END IF;
END
$$;
"""

# The extension may be shared with other apps' indexes, so only the index is dropped.
BACKWARD = "DROP INDEX IF EXISTS kb_article_title_trgm;"


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
