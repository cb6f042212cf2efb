"""Files on messages: one saver for agents' and customers' uploads and for mail parts.

Whichever door a file comes through, it is stored the same way: the name people see is
the file's own name without any folder, the stored name is one the storage accepts,
and the type is the one declared (by the browser or the mail part), else the one its
name suggests.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from typing import Protocol

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename

from tickets.models import Attachment, Message

FALLBACK_NAME = "attachment"
DEFAULT_TYPE = "application/octet-stream"
_MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


class FilePart(Protocol):
    """A file already in memory, e.g. a mail part (tickets.mail.parse.ParsedAttachment)."""

    filename: str
    content_type: str
    content: bytes
    content_id: str
    inline: bool


def shown_name(name: str) -> str:
    """The name people see: no folder (browsers and mail clients send some), no control
    characters, no leading or trailing dots or spaces."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".").strip()
    return name[:255] or FALLBACK_NAME


def _content_type(declared: str | None, name: str) -> str:
    declared = (declared or "").strip().lower()
    if _MIME_TYPE.match(declared):
        return declared[:255]
    return mimetypes.guess_type(name)[0] or DEFAULT_TYPE


def attachment_rows(message: Message, files: Iterable[UploadedFile | FilePart]) -> list[Attachment]:
    """The message's attachments, not saved yet (their files are written on save)."""
    rows = []
    for item in files:
        if isinstance(item, UploadedFile):
            name = shown_name(item.name or "")
            stored: File = File(item, name=_stored_name(name))
            size, declared, content_id, inline = item.size or 0, item.content_type, "", False
        else:
            name = shown_name(item.filename)
            stored = ContentFile(item.content, name=_stored_name(name))
            size, declared = len(item.content), item.content_type
            content_id, inline = item.content_id[:255], item.inline
        rows.append(
            Attachment(
                message=message,
                file=stored,
                filename=name,
                content_type=_content_type(declared, name),
                size=size,
                content_id=content_id,
                inline=inline,
            )
        )
    return rows


def _stored_name(name: str) -> str:
    try:
        return get_valid_filename(name)[-150:]
    except SuspiciousFileOperation:
        # Nothing of the name is safe on disk (e.g. only punctuation).
        return FALLBACK_NAME


def attach_files(
    message: Message,
    files: Iterable[UploadedFile | FilePart],
    *,
    inline: dict[str, str] | None = None,
) -> list[Attachment]:
    """Store files on a message, in the caller's transaction (one INSERT for all of them).
    `inline` maps the names of files the message shows inline to their Content-IDs."""
    rows = attachment_rows(message, files)
    for row in rows:
        if inline and row.filename in inline:
            row.content_id, row.inline = inline[row.filename], True
    return Attachment.objects.bulk_create(rows) if rows else []
