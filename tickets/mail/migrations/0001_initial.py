import django.db.models.deletion
import django.utils.timezone
import tickets.mail.models
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tickets", "0014_ticket_unassigned_mailbox"),
    ]

    # State only: the table was created by the tickets app's migrations and keeps its
    # name (tickets/migrations/0015_mail_and_rules_apps.py).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="QuarantinedEmail",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "raw",
                            models.FileField(
                                max_length=300, upload_to=tickets.mail.models.quarantine_path
                            ),
                        ),
                        ("sha256", models.CharField(max_length=64, unique=True)),
                        ("size", models.PositiveBigIntegerField(default=0)),
                        ("reason", models.TextField()),
                        ("source", models.CharField(blank=True, max_length=16)),
                        ("subject", models.CharField(blank=True, max_length=998)),
                        ("from_address", models.CharField(blank=True, max_length=320)),
                        ("received_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "state",
                            models.CharField(
                                choices=[("held", "Held"), ("released", "Released")],
                                default="held",
                                max_length=16,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=1)),
                        (
                            "mailbox",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="tickets.mailbox",
                            ),
                        ),
                        (
                            "ticket",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="tickets.ticket",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "quarantined email",
                        "db_table": "tickets_quarantinedemail",
                        "ordering": ["-received_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["state", "-received_at"], name="quarantine_state_received"
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
