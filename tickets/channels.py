"""The icons of the channels a ticket came through: inline SVG, no external assets.

Each icon is an `<svg role="img">` named by its `aria-label`, so a screen reader says
"Phone" where a sighted agent sees the handset. Channels without an icon of their own
show none (an email ticket is the common case and needs no marker in a row).
"""

from __future__ import annotations

from django.utils.safestring import SafeString

from helpdesk.html import html_fill
from tickets.models import Channel

_SVG = (
    '<svg class="channel-icon channel-{channel}" role="img" aria-label="{label}" '
    'viewBox="0 0 16 16" width="14" height="14" fill="none" stroke="currentColor" '
    'stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round">'
    "<title>{label}</title>{path}</svg>"
)
_PATHS = {
    # A handset.
    Channel.PHONE: (
        '<path d="M3 2h3l1 3-2 1a8 8 0 0 0 5 5l1-2 3 1v3a1 1 0 0 1-1 1'
        'A12 12 0 0 1 2 3a1 1 0 0 1 1-1z"/>'
    ),
    # A speech bubble.
    Channel.CHAT: '<path d="M2 3h12v8H7l-3 3v-3H2z"/>',
    # A walking person.
    Channel.WALK_IN: (
        '<circle cx="9" cy="2.5" r="1.5"/><path d="M8 5l-2 4h3l1 5M7 9l-2 5M8 5l3 3h2"/>'
    ),
    Channel.EMAIL: '<path d="M2 4h12v8H2zM2 4l6 5 6-5"/>',
}
ICONS: dict[str, SafeString] = {
    channel.value: html_fill(
        _SVG, channel=channel.value, label=channel.label, path=SafeString(path)
    )
    for channel, path in _PATHS.items()
}
# The channels a row of the inbox marks: those an agent records by hand.
ROW_ICONS: dict[str, SafeString] = {
    c: ICONS[c] for c in (Channel.PHONE, Channel.CHAT, Channel.WALK_IN)
}


def channel_icon(channel: str) -> SafeString:
    """The channel's icon, or nothing for a channel without one."""
    return ICONS.get(channel, SafeString(""))
