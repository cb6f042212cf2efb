"""The optional drafting model: any OpenAI-compatible chat endpoint (ASSIST_DRAFT_URL).

Off by default. When it is set, "Draft a reply" sends the conversation (customer-visible
messages only, never internal notes), the articles and the solved replies assist found,
and puts the answer in the composer; nothing is ever sent to the customer on its own.
`payload()` is exactly what goes out: the admin screen shows it for any ticket.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from assist.similar import SolvedTicket
from kb.search import ArticleHit
from tickets.models import Direction, Message, Ticket

INSTRUCTIONS = (
    "You draft replies for a customer support agent. Write the reply the agent will send "
    "to the customer, in the customer's language, friendly and short. Use only the facts "
    "in the conversation, the articles and the earlier solved replies below; if they do "
    "not answer the question, say what you need to know. Do not invent policies, prices "
    "or dates. Reply with the message text only, without a subject line."
)
MAX_MESSAGES = 20
MAX_CHARS = 4000


class DraftError(Exception):
    """The endpoint could not give a draft; the message says why, for the agent."""


def enabled() -> bool:
    return bool(settings.ASSIST_DRAFT_URL)


def _conversation(ticket: Ticket) -> list[dict[str, str]]:
    messages = (
        Message.objects.filter(ticket=ticket)
        .exclude(direction=Direction.NOTE)
        .order_by("-created_at", "-id")
        .values_list("direction", "body_text")[:MAX_MESSAGES]
    )
    turns = []
    for direction, body in reversed(list(messages)):
        role = "user" if direction == Direction.INBOUND else "assistant"
        turns.append({"role": role, "content": body[:MAX_CHARS]})
    return turns


def payload(
    ticket: Ticket, articles: list[ArticleHit], solved: list[SolvedTicket]
) -> dict[str, Any]:
    """The request body, as it would be sent."""
    context = [INSTRUCTIONS]
    for hit in articles:
        body = hit.article.body_text[:MAX_CHARS]
        context.append(f"Article “{hit.article.title}”:\n{body}")
    for item in solved:
        reply = item.reply[:MAX_CHARS]
        context.append(f"Earlier solved ticket “{item.subject}”, its reply:\n{reply}")
    return {
        "model": settings.ASSIST_DRAFT_MODEL,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "\n\n".join(context)},
            *_conversation(ticket),
        ],
    }


def draft(body: dict[str, Any]) -> str:
    """Ask the endpoint; the draft text, or DraftError."""
    if not enabled():
        raise DraftError(_("No drafting model is set up (ASSIST_DRAFT_URL)."))
    url = settings.ASSIST_DRAFT_URL.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if settings.ASSIST_DRAFT_API_KEY:
        headers["Authorization"] = f"Bearer {settings.ASSIST_DRAFT_API_KEY}"
    try:
        response = requests.post(
            url, json=body, headers=headers, timeout=settings.ASSIST_DRAFT_TIMEOUT
        )
    except requests.RequestException as exc:
        raise DraftError(
            _("The drafting model did not answer: %(error)s.") % {"error": exc.__class__.__name__}
        ) from exc
    if response.status_code != 200:
        raise DraftError(
            _("The drafting model answered %(status)s.") % {"status": response.status_code}
        )
    try:
        text = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DraftError(_("The drafting model's answer was not a chat completion.")) from exc
    if not isinstance(text, str) or not text.strip():
        raise DraftError(_("The drafting model gave an empty draft."))
    return text.strip()
