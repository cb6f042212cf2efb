"""Message search finds newest months first: a GIN index over each message's vector plus a
lexeme naming its 30-day period ("zm<n>"), replacing the plain `message_search` index.

The expression must stay word for word what tickets.models.message_search_doc() writes,
or PostgreSQL will not use the index. IF NOT EXISTS: a large database may have had it built
beforehand with CREATE INDEX CONCURRENTLY, which a migration (in a transaction) cannot do.
"""

from django.db import migrations

DATED = (
    "CREATE INDEX IF NOT EXISTS message_search_dated ON tickets_message USING gin "
    "((tickets_message.search_vector || array_to_tsvector(ARRAY['zm' || floor(extract(epoch FROM "
    "(tickets_message.created_at - to_timestamp(0))) / 2592000)::bigint::text])))"
)
PLAIN = "CREATE INDEX IF NOT EXISTS message_search ON tickets_message USING gin (search_vector)"


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_calmer_frustration_rule")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="message", name="message_search")],
            database_operations=[
                migrations.RunSQL(
                    sql=[DATED, "DROP INDEX IF EXISTS message_search"],
                    reverse_sql=[PLAIN, "DROP INDEX IF EXISTS message_search_dated"],
                )
            ],
        )
    ]
