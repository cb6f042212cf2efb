"""State only: RequestFormVisit now belongs to kb (the table keeps its name)."""

from django.db import migrations


def move_content_type(apps, schema_editor, source="portal", target="kb"):  # type: ignore[no-untyped-def]
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label=target, model="requestformvisit").exists():
        content_type.objects.filter(app_label=source, model="requestformvisit").update(
            app_label=target
        )


def move_back(apps, schema_editor):  # type: ignore[no-untyped-def]
    move_content_type(apps, schema_editor, source="kb", target="portal")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("kb", "0004_request_form_visit"),
        ('portal', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='requestformvisit',
                    name='portal_visit_started',
                ),
                migrations.RemoveConstraint(
                    model_name='requestformvisit',
                    name='portal_visit_ticket',
                ),
                migrations.DeleteModel(
                    name='RequestFormVisit',
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_back),
    ]
