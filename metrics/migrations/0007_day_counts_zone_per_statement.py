from django.db import migrations

from metrics import day_counts


class Migration(migrations.Migration):
    # The trigger functions read the zone in the statement that appends, after waiting for
    # a rebuild's lock on the counts, instead of before it (a zone change could otherwise
    # land a change in the old zone); the rebuild no longer locks figures and spans.

    dependencies = [
        ("metrics", "0006_day_counts"),
    ]

    operations = [
        migrations.RunSQL(day_counts.functions_sql(), migrations.RunSQL.noop),
    ]
