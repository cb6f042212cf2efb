import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tickets", "0014_ticket_unassigned_mailbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # State only: the table was created by the tickets app's migrations and keeps its
    # name (tickets/migrations/0015_mail_and_rules_apps.py).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RuleCursor",
                    fields=[
                        (
                            "ticket",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="tickets.ticket",
                            ),
                        ),
                        ("last_event_id", models.BigIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "tickets_rulecursor",
                    },
                ),
                migrations.CreateModel(
                    name="AssignmentPolicy",
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
                        ("enabled", models.BooleanField(default=True)),
                        (
                            "max_open_per_agent",
                            models.PositiveIntegerField(
                                default=25,
                                help_text="Agents with this many open tickets are skipped.",
                            ),
                        ),
                        (
                            "last_assignee",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "team",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="assignment_policy",
                                to="tickets.team",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "assignment policies",
                        "db_table": "tickets_assignmentpolicy",
                    },
                ),
                migrations.CreateModel(
                    name="AutomationRule",
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
                        ("name", models.CharField(max_length=200)),
                        (
                            "trigger",
                            models.CharField(
                                choices=[
                                    ("created", "When a ticket is created"),
                                    ("updated", "When a ticket is updated"),
                                    ("changed", "When a ticket is created or updated"),
                                    ("scheduled", "On a schedule (checked every few minutes)"),
                                ],
                                default="created",
                                max_length=16,
                            ),
                        ),
                        (
                            "match",
                            models.CharField(
                                choices=[
                                    ("all", "All conditions hold"),
                                    ("any", "Any condition holds"),
                                ],
                                default="all",
                                max_length=8,
                            ),
                        ),
                        ("conditions", models.JSONField(blank=True, default=list)),
                        ("actions", models.JSONField(blank=True, default=list)),
                        ("is_active", models.BooleanField(default=True)),
                        ("position", models.PositiveIntegerField(default=100)),
                        (
                            "builtin",
                            models.SlugField(
                                blank=True, help_text="Set on the rules Tandem ships with."
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "db_table": "tickets_automationrule",
                        "ordering": ["position", "id"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("builtin", ""), _negated=True),
                                fields=("builtin",),
                                name="automation_rule_builtin",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="CannedReply",
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
                        ("title", models.CharField(max_length=200)),
                        ("body", models.TextField()),
                        ("changes", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "owner",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty: shared with every agent.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="canned_replies",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "canned replies",
                        "db_table": "tickets_cannedreply",
                        "ordering": ["title", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="SlaPolicy",
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
                        ("name", models.CharField(max_length=200)),
                        (
                            "priority",
                            models.CharField(
                                choices=[
                                    ("low", "Low"),
                                    ("normal", "Normal"),
                                    ("high", "High"),
                                    ("urgent", "Urgent"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                blank=True,
                                choices=[("support", "Support"), ("service", "Service")],
                                max_length=16,
                            ),
                        ),
                        (
                            "first_response_hours",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                help_text="Business hours.",
                                max_digits=7,
                                null=True,
                            ),
                        ),
                        (
                            "resolution_hours",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                help_text="Business hours.",
                                max_digits=7,
                                null=True,
                            ),
                        ),
                        (
                            "warn_before_minutes",
                            models.PositiveIntegerField(
                                default=60,
                                help_text="Warn the assignee and team this long before a breach.",
                            ),
                        ),
                        ("is_active", models.BooleanField(default=True)),
                        (
                            "mailbox",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="tickets.mailbox",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="tickets.organization",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "SLA policy",
                        "verbose_name_plural": "SLA policies",
                        "db_table": "tickets_slapolicy",
                        "ordering": ["priority", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="Reminder",
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
                        ("remind_at", models.DateTimeField()),
                        ("note", models.CharField(blank=True, max_length=500)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "agent",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reminders",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "ticket",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reminders",
                                to="tickets.ticket",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tickets_reminder",
                        "ordering": ["remind_at"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("sent_at__isnull", True)),
                                fields=["remind_at"],
                                name="reminder_due",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="RuleApplication",
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
                        ("applied_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "rule",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="workflow.automationrule",
                            ),
                        ),
                        (
                            "ticket",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="tickets.ticket",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tickets_ruleapplication",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("rule", "ticket"), name="rule_application_once"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SlaAlert",
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
                            "target",
                            models.CharField(
                                choices=[
                                    ("first_response", "First response"),
                                    ("resolution", "Resolution"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[("warning", "Warning"), ("breach", "Breach")], max_length=8
                            ),
                        ),
                        ("due_at", models.DateTimeField()),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "ticket",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sla_alerts",
                                to="tickets.ticket",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tickets_slaalert",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("ticket", "target", "kind", "due_at"), name="sla_alert_once"
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
