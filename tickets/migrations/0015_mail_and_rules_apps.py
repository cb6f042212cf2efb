"""The mail and workflow models move to their own apps (tickets.mail, tickets.workflow).

State only: the tables keep their names (each model's Meta.db_table), so no row moves
and nothing is locked. mail/0001 and workflow/0001 create the same models in their
apps' state; this migration points Ticket.sla_policy at workflow.SlaPolicy and deletes
the old models from the tickets app's state. The content types follow, so admin
permissions and log entries keep pointing at the same models.
"""

import django.db.models.deletion
from django.db import migrations, models


MOVED = {
    "workflow": [
        "assignmentpolicy",
        "automationrule",
        "cannedreply",
        "reminder",
        "ruleapplication",
        "rulecursor",
        "slaalert",
        "slapolicy",
    ],
    "mail": ["quarantinedemail"],
}


def move_content_types(apps, schema_editor, forward=True):  # type: ignore[no-untyped-def]
    content_type = apps.get_model("contenttypes", "ContentType")
    for app, models in MOVED.items():
        source, target = ("tickets", app) if forward else (app, "tickets")
        taken = set(
            content_type.objects.filter(app_label=target, model__in=models).values_list(
                "model", flat=True
            )
        )
        content_type.objects.filter(app_label=source, model__in=models).exclude(
            model__in=taken
        ).update(app_label=target)


def move_back(apps, schema_editor):  # type: ignore[no-untyped-def]
    move_content_types(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0014_ticket_unassigned_mailbox"),
        ("mail", "0001_initial"),
        ("workflow", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="sla_policy",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="workflow.slapolicy",
                    ),
                ),
                migrations.RemoveField(
                    model_name="assignmentpolicy",
                    name="last_assignee",
                ),
                migrations.RemoveField(
                    model_name="assignmentpolicy",
                    name="team",
                ),
                migrations.RemoveConstraint(
                    model_name="automationrule",
                    name="automation_rule_builtin",
                ),
                migrations.RemoveField(
                    model_name="cannedreply",
                    name="owner",
                ),
                migrations.RemoveIndex(
                    model_name="quarantinedemail",
                    name="quarantine_state_received",
                ),
                migrations.RemoveIndex(
                    model_name="reminder",
                    name="reminder_due",
                ),
                migrations.RemoveConstraint(
                    model_name="ruleapplication",
                    name="rule_application_once",
                ),
                migrations.RemoveField(
                    model_name="rulecursor",
                    name="ticket",
                ),
                migrations.RemoveConstraint(
                    model_name="slaalert",
                    name="sla_alert_once",
                ),
                migrations.RemoveField(
                    model_name="slapolicy",
                    name="mailbox",
                ),
                migrations.RemoveField(
                    model_name="slapolicy",
                    name="organization",
                ),
                migrations.DeleteModel(
                    name="AssignmentPolicy",
                ),
                migrations.DeleteModel(
                    name="CannedReply",
                ),
                migrations.RemoveField(
                    model_name="quarantinedemail",
                    name="mailbox",
                ),
                migrations.RemoveField(
                    model_name="quarantinedemail",
                    name="ticket",
                ),
                migrations.RemoveField(
                    model_name="reminder",
                    name="agent",
                ),
                migrations.RemoveField(
                    model_name="reminder",
                    name="ticket",
                ),
                migrations.RemoveField(
                    model_name="ruleapplication",
                    name="rule",
                ),
                migrations.RemoveField(
                    model_name="ruleapplication",
                    name="ticket",
                ),
                migrations.DeleteModel(
                    name="RuleCursor",
                ),
                migrations.RemoveField(
                    model_name="slaalert",
                    name="ticket",
                ),
                migrations.DeleteModel(
                    name="SlaPolicy",
                ),
                migrations.DeleteModel(
                    name="QuarantinedEmail",
                ),
                migrations.DeleteModel(
                    name="Reminder",
                ),
                migrations.DeleteModel(
                    name="AutomationRule",
                ),
                migrations.DeleteModel(
                    name="RuleApplication",
                ),
                migrations.DeleteModel(
                    name="SlaAlert",
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_back),
    ]
