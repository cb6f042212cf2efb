"""Survey mails stored before the survey links moved out of stored bodies carry the
customer's signed link, which agents (and, in the portal, colleagues sharing tickets)
can read. Replace it with the placeholder the survey mail is stored with now: the
customer's e-mail, already sent, keeps its working link (metrics/surveys.py)."""

from __future__ import annotations

import re
from typing import Any

from django.db import migrations

LINK = re.compile(r"/survey/[A-Za-z0-9_:.\-]+/")
PLACEHOLDER = "/survey/from-your-email/"


def scrub_survey_links(apps: Any, schema_editor: Any) -> None:
    Message = apps.get_model("tickets", "Message")
    stored = Message.objects.filter(automatic=True, body_text__contains="/survey/")
    for message in stored.only("pk", "body_text", "body_html").iterator(chunk_size=500):
        Message.objects.filter(pk=message.pk).update(
            body_text=LINK.sub(PLACEHOLDER, message.body_text),
            body_html=LINK.sub(PLACEHOLDER, message.body_html),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0007_day_counts_zone_per_statement"),
        ("tickets", "0017_event_kinds_cc_snooze_split"),
    ]

    operations = [migrations.RunPython(scrub_survey_links, migrations.RunPython.noop)]
