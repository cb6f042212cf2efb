from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_notify_on_unassigned_reply"),
    ]

    operations = [
        migrations.AddField(
            model_name="mailbox",
            name="imap_polled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="imap_error",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="imap_failing_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
