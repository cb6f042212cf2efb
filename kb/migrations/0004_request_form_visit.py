"""The request-form visits (the help center's deflection record) move from portal to kb."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0001_initial"),
        ('kb', '0003_title_vector'),
        ('tickets', '0015_mail_and_rules_apps'),
    ]

    # State only: the table was created by the portal's migrations and keeps its name
    # (portal/migrations/0002_request_form_visit_moves_to_kb.py).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RequestFormVisit',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('suggestions_shown', models.PositiveIntegerField(default=0)),
                        ('suggestions_opened', models.PositiveIntegerField(default=0)),
                        ('first_opened_at', models.DateTimeField(blank=True, null=True)),
                        ('filed_at', models.DateTimeField(blank=True, null=True)),
                        ('customer', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='request_form_visits', to='tickets.customer')),
                        ('last_opened_article', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='kb.article')),
                        ('ticket', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tickets.ticket')),
                    ],
                    options={
                        'db_table': 'portal_requestformvisit',
                        'indexes': [models.Index(fields=['started_at'], name='portal_visit_started')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('ticket__isnull', False)), fields=('ticket',), name='portal_visit_ticket')],
                    },
                ),
            ],
        ),
    ]
