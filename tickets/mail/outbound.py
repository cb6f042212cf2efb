"""Sending ticket mail over SMTP: agent replies and auto-acknowledgements.

Exactly-once, and where that cannot be had, at-most-once:
- The Message-ID, In-Reply-To and References are written when the message is queued,
  before any send, so a customer's answer threads even if our record of the send is lost.
- A send starts with a conditional update queued/failed -> sending; a second task, a
  Celery redelivery or an agent's retry finds the row already claimed and does nothing.
- The row is the queue: a queued message carries when it is due (`next_attempt_at`), and
  mail_out.send_due sends whatever is due, so a task lost with the broker, a worker
  killed before it ran, or a mail server down for a day costs time, never the reply.
- A failure before the server accepted the DATA (connection refused or dropped mid-send,
  4xx) returns the row to queued, due again after a growing delay (30 s, 1 min, 2 min
  ... at most 15 min), for up to MAIL_SEND_GIVE_UP_HOURS (5 days, as mail servers keep
  a queue); 5xx answers fail at once and show the server's words to the agent.
- The window that remains is a worker dying after the server accepted the message and
  before we wrote "sent". We do not resend automatically in that case: the sweeper
  turns a send stuck in "sending" into "failed" with an explanation, and only a person
  decides to retry (and the resend carries the same Message-ID, so receiving systems
  that de-duplicate by Message-ID drop the copy). Sending twice is worse than asking.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email import policy as email_policy
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from helpdesk.branding import product_name
from tickets.mail import compose, delivery
from tickets.mail.tokens import reply_address, subject_with_token
from tickets.models import DeliveryStatus, Direction, Mailbox, MailSecurity, Message, Ticket

STUCK_AFTER = timedelta(minutes=15)


def retry_delay(attempts: int) -> timedelta:
    """How long after the `attempts`-th failed try the next one is due."""
    base = settings.MAIL_SEND_RETRY_BASE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.MAIL_SEND_RETRY_MAX_SECONDS)
    )


def new_message_id(ticket: Ticket) -> str:
    """A Message-ID for a message we send on this ticket (without angle brackets)."""
    domain = ticket.mailbox.address.partition("@")[2] or "tandem.invalid"
    return make_msgid(f"t{ticket.pk}", domain=domain).strip("<>")


def prepare_queued(message: Message) -> None:
    """Give a newly queued message its headers before anything is sent."""
    ticket = message.ticket
    conversation = list(
        Message.objects.filter(ticket=ticket)
        .exclude(pk=message.pk)
        .exclude(direction=Direction.NOTE)
        .order_by("created_at", "id")
        .values_list("message_id", "direction")
    )
    thread = [(mid, direction) for mid, direction in conversation if mid]
    customer_ids = [mid for mid, direction in thread if direction == Direction.INBOUND]
    # The first message of a conversation we start (outreach) is no reply: no "Re:".
    subject = _reply_subject(ticket.subject) if conversation else ticket.subject
    updates = {
        "message_id": message.message_id or new_message_id(ticket),
        "in_reply_to": message.in_reply_to or (customer_ids[-1] if customer_ids else ""),
        "references": message.references or " ".join(mid for mid, _ in thread[-20:]),
        "subject": message.subject or subject_with_token(subject, ticket.pk),
        "to": message.to or [ticket.customer.email],
        "from_address": message.from_address or ticket.mailbox.address,
        "next_attempt_at": message.next_attempt_at or timezone.now(),
    }
    Message.objects.filter(pk=message.pk).update(**updates)
    for field, value in updates.items():
        setattr(message, field, value)


def _reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def build_email(message: Message) -> EmailMultiAlternatives:
    """The email of an outbound message: its bodies (tickets/mail/compose.py), thread
    headers, and its files, inline images beside the HTML and the others attached."""
    ticket = message.ticket
    mailbox = ticket.mailbox
    # What only the recipient's copy may carry (a survey's signed links) is filled in
    # there, at send time; the stored body shows placeholders.
    text, html = compose.outgoing_bodies(message)
    headers = {
        "Message-ID": f"<{message.message_id}>",
        "X-Tandem-Ticket": str(ticket.pk),
    }
    if message.in_reply_to:
        headers["In-Reply-To"] = f"<{message.in_reply_to.split()[0]}>"
    if message.references:
        headers["References"] = " ".join(f"<{mid}>" for mid in message.references.split())
    if message.automatic:
        # RFC 3834: tells the customer's auto-responder not to answer our auto-answer.
        headers["Auto-Submitted"] = "auto-replied"
    attachments = list(message.attachments.all())
    inline = compose.inline_parts(message, attachments) if html else []
    related = []
    for attachment in inline:
        with attachment.file.open("rb") as handle:
            content = handle.read()
        related.append(
            (content, attachment.content_type, attachment.content_id, attachment.filename)
        )
    email = compose.TicketEmail(
        subject=message.subject,
        body=text,
        from_email=formataddr(
            (mailbox.from_name or mailbox.name or product_name(), mailbox.address)
        ),
        to=list(message.to),
        cc=list(message.cc),
        reply_to=[reply_address(mailbox.address, ticket.pk)],
        headers=headers,
        related=related,
    )
    if html:
        email.attach_alternative(html, "text/html")
    for attachment in attachments:
        if attachment in inline:
            continue
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return email


def _smtp_client(mailbox: Mailbox, timeout: float = 30) -> smtplib.SMTP:
    """A connected, signed-in SMTP client for the mailbox's settings."""
    context = ssl.create_default_context()
    if mailbox.smtp_security == MailSecurity.SSL:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            mailbox.smtp_host, mailbox.smtp_port, timeout=timeout, context=context
        )
    else:
        client = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=timeout)
    try:
        if mailbox.smtp_security == MailSecurity.STARTTLS:
            client.starttls(context=context)
        if mailbox.smtp_user:
            client.login(mailbox.smtp_user, mailbox.smtp_password)
    except BaseException:
        client.close()
        raise
    return client


def _smtp_send(mailbox: Mailbox, email: EmailMultiAlternatives) -> None:
    with _smtp_client(mailbox) as client:
        # smtplib sends bytes as they are: lines must already end in CRLF (RFC 5321), or
        # the server sees one endless line once a message passes 1000 bytes.
        raw = email.message().as_bytes(policy=email_policy.SMTP)
        client.sendmail(mailbox.address, email.recipients(), raw)


def transmit(mailbox: Mailbox, email: EmailMultiAlternatives) -> None:
    """Hand the message to the mailbox's SMTP server, or to the default mailer."""
    if mailbox.smtp_host:
        _smtp_send(mailbox, email)
    else:
        email.send()


def check_smtp(mailbox: Mailbox, timeout: float | None = None) -> tuple[bool, str]:
    """Connect and sign in to the mailbox's SMTP server without sending anything."""
    if not mailbox.smtp_host:
        return True, "SMTP: no server is set; replies go out through the default mail server."
    where = f"{mailbox.smtp_host}:{mailbox.smtp_port}"
    try:
        with _smtp_client(mailbox, timeout or 30) as client:
            client.noop()
    except smtplib.SMTPAuthenticationError:
        return False, f"SMTP: {where} refused the user name or password."
    except smtplib.SMTPNotSupportedError as exc:
        return False, f"SMTP: {where} does not support what the settings ask for ({exc})."
    except ssl.SSLError as exc:
        return False, f"SMTP: the secure connection to {where} failed ({exc.reason})."
    except (smtplib.SMTPException, OSError) as exc:
        return False, f"SMTP: could not connect to {where} ({exc})."
    return True, f"SMTP: connected and signed in to {where}."


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return isinstance(exc, smtplib.SMTPNotSupportedError | smtplib.SMTPAuthenticationError)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"The mail server answered {exc.smtp_code}: {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{rcpt} ({code})" for rcpt, (code, _) in exc.recipients.items())
        return f"The mail server refused the recipients: {refused}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"The mail server closed the connection: {exc}"
    return f"Could not reach the mail server: {type(exc).__name__}: {exc}"


def send_message(message_pk: int) -> str:
    """Send one queued message once; returns what happened, for logs and tests."""
    if not delivery.claim_for_sending(message_pk):
        return "not claimable"
    message = (
        Message.objects.select_related("ticket__mailbox", "ticket__customer")
        .filter(pk=message_pk)
        .first()
    )
    if message is None:
        return "gone"
    now = timezone.now()
    Message.objects.filter(pk=message_pk).update(sending_since=now)
    try:
        transmit(message.ticket.mailbox, build_email(message))
    except (smtplib.SMTPException, OSError) as exc:
        error = _describe(exc)
        given_up = now - message.created_at > timedelta(hours=settings.MAIL_SEND_GIVE_UP_HOURS)
        if _is_permanent(exc) or given_up:
            if given_up:
                error = f"Gave up after {settings.MAIL_SEND_GIVE_UP_HOURS} hours of tries. {error}"
            delivery.mark_failed(message, error, will_retry=False)
            return "failed"
        attempts = message.delivery_attempts + 1  # claim_for_sending counted this one
        delivery.mark_retrying(message, error, at=now + retry_delay(attempts))
        return "retrying"
    delivery.mark_sent(message)
    return "sent"


@transaction.atomic
def sweep_stuck_sends() -> int:
    """Sends a dead worker left in "sending": mark them failed for a person to decide."""
    cutoff = timezone.now() - STUCK_AFTER
    stuck = list(
        Message.objects.select_related("ticket")
        .select_for_update(skip_locked=True)
        .filter(delivery_status=DeliveryStatus.SENDING, sending_since__lt=cutoff)
    )
    for message in stuck:
        delivery.mark_failed(
            message,
            "The worker stopped while sending, so delivery is uncertain: the mail server may "
            "have accepted the message. Retry only if the customer did not receive it.",
            will_retry=False,
        )
    return len(stuck)
