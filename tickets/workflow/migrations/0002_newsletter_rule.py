"""The built-in rule "Newsletters and notifications", switched on: admins can edit or
turn it off on the rules page (tickets/services/courtesy.py)."""

from django.db import migrations

RULE = {
    "builtin": "newsletters",
    "name": "Newsletters and notifications: keep out of Unassigned",
    "trigger": "created",
    "position": 5,
    "conditions": [{"field": "bulk_mail", "op": "is", "value": "yes"}],
    "actions": [{"type": "mark_newsletter"}],
}


def add_rule(apps, schema_editor):
    AutomationRule = apps.get_model("workflow", "AutomationRule")
    AutomationRule.objects.get_or_create(builtin=RULE["builtin"], defaults=RULE)


def remove_rule(apps, schema_editor):
    AutomationRule = apps.get_model("workflow", "AutomationRule")
    AutomationRule.objects.filter(builtin=RULE["builtin"]).delete()


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]

    operations = [migrations.RunPython(add_rule, remove_rule)]
