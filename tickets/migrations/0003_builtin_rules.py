"""The rules Tandem ships with, switched on: admins can edit, reorder or turn them off."""

from django.db import migrations

PENDING_NOTE = (
    "Hi {{customer.first_name}},\n\n"
    "We haven't heard back from you for a few days, so we are marking this request "
    "(#{{ticket.number}}) as solved. If you still need help, just reply to this email "
    "and it will open again.\n\n"
    "Best regards,\n{{agent.name}}"
)

# VADER's compound score of the customer's words. Plain problem reports ("payment failed
# twice", "export failed again") score about -0.7; anger ("terrible, useless, furious")
# scores below -0.85. -0.8 flags the second without flagging every bug report.
SENTIMENT_THRESHOLD = -0.8

BUILTIN_RULES = [
    {
        "builtin": "repeat-support-follow-up",
        "name": "Three support tickets in 30 days: success follow-up",
        "trigger": "created",
        "position": 10,
        "conditions": [
            {"field": "kind", "op": "is", "value": "support"},
            {"field": "recent_support_tickets", "op": "at_least", "value": 3, "days": 30},
        ],
        "actions": [{"type": "open_follow_up", "days": 30}],
    },
    {
        "builtin": "solve-stale-pending",
        "name": "Pending 5 days without an answer: solve with a note",
        "trigger": "scheduled",
        "position": 20,
        "conditions": [
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "hours_since_update", "op": "more_than", "value": 120},
        ],
        "actions": [
            {"type": "send_reply", "value": PENDING_NOTE},
            {"type": "set_status", "value": "solved"},
        ],
    },
    {
        "builtin": "frustrated-customer",
        "name": "Frustrated customer: flag and raise priority",
        "trigger": "changed",
        "position": 30,
        "conditions": [{"field": "sentiment", "op": "below", "value": SENTIMENT_THRESHOLD}],
        "actions": [
            {"type": "add_tags", "value": ["frustrated"]},
            {"type": "raise_priority", "value": "high"},
        ],
    },
]


def create_rules(apps, schema_editor):
    AutomationRule = apps.get_model("tickets", "AutomationRule")
    for spec in BUILTIN_RULES:
        AutomationRule.objects.get_or_create(builtin=spec["builtin"], defaults=spec)


def start_cursors_at_now(apps, schema_editor):
    # Tickets that exist before rules do: their past events are not news to the engine.
    schema_editor.execute(
        "INSERT INTO tickets_rulecursor (ticket_id, last_event_id) "
        "SELECT ticket_id, max(id) FROM tickets_ticketevent GROUP BY ticket_id "
        "ON CONFLICT (ticket_id) DO NOTHING"
    )


def remove_rules(apps, schema_editor):
    AutomationRule = apps.get_model("tickets", "AutomationRule")
    AutomationRule.objects.filter(builtin__in=[r["builtin"] for r in BUILTIN_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_workflow")]

    operations = [
        migrations.RunPython(create_rules, remove_rules),
        migrations.RunPython(start_cursors_at_now, migrations.RunPython.noop),
    ]
