from django.db import migrations

OLD = [{"field": "sentiment", "op": "below", "value": -0.5}]
NEW = [{"field": "sentiment", "op": "below", "value": -0.8}]


def calmer(apps, schema_editor):
    # Only the untouched built-in rule: an admin's own threshold stays as they set it.
    AutomationRule = apps.get_model("tickets", "AutomationRule")
    AutomationRule.objects.filter(builtin="frustrated-customer", conditions=OLD).update(
        conditions=NEW
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_ticket_open_priority")]
    operations = [migrations.RunPython(calmer, migrations.RunPython.noop)]
