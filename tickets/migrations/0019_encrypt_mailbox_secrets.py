"""Mailbox passwords and webhook secrets: encrypted in their columns (helpdesk/encryption.py).

The columns become text (a token is longer than its value), then each value is encrypted
in place; backwards, decrypted. Through SQL, not the model: the model's field decrypts
what it reads, and the values here are not encrypted yet.
"""

import helpdesk.encryption
import tickets.models.mailboxes
from django.db import migrations

SECRETS = ("imap_password", "smtp_password", "webhook_secret")


def _convert(apps, schema_editor, change):
    table = apps.get_model("tickets", "Mailbox")._meta.db_table
    quote = schema_editor.quote_name
    columns = ", ".join(quote(name) for name in SECRETS)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM {quote(table)}")
        for pk, *values in cursor.fetchall():
            assignments = ", ".join(f"{quote(name)} = %s" for name in SECRETS)
            new = [change(value) if value else value for value in values]
            cursor.execute(f"UPDATE {quote(table)} SET {assignments} WHERE id = %s", [*new, pk])


def encrypt(apps, schema_editor):
    _convert(apps, schema_editor, helpdesk.encryption.encrypt)


def decrypt(apps, schema_editor):
    _convert(apps, schema_editor, helpdesk.encryption.decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0018_message_sender_checks'),
    ]

    operations = [
        migrations.AlterField(
            model_name='mailbox',
            name='imap_password',
            field=helpdesk.encryption.EncryptedTextField(blank=True, max_length=255),
        ),
        migrations.AlterField(
            model_name='mailbox',
            name='smtp_password',
            field=helpdesk.encryption.EncryptedTextField(blank=True, max_length=255),
        ),
        migrations.AlterField(
            model_name='mailbox',
            name='webhook_secret',
            field=helpdesk.encryption.EncryptedTextField(default=tickets.models.mailboxes._webhook_secret, max_length=64),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
