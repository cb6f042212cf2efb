"""Topics: the key phrases customers write about, mined from the subject and the first
customer message of each ticket (docs/metrics.md, "Topics").

Hand-written rather than scikit-learn's CountVectorizer: the project has neither it nor
numpy, and what is needed is small (words, pairs of neighbouring words, a stop list, a
plural folded into its singular). `phrase_keys` is the one definition of what a text is
about; `mine` chooses the topics from a set of texts, `match_tickets` records which
tickets match which topic (TicketTopic), and `window_topics` counts a window from it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Left
from django.utils import timezone

from service.models import TicketTopic, Topic, TopicDay
from tickets.models import Direction, Message, Ticket
from tickets.rows import copy_rows

TOPIC_LIMIT = 20
MIN_TICKETS = 2
MINING_WINDOW = timedelta(days=90)
# Tickets are matched to topics this far back; older windows count nothing.
MATCH_HORIZON = timedelta(days=365)
RECENT_MATCH = timedelta(days=1)
FIRST_MESSAGE_CHARS = 2000
WRITE_CHUNK = 20_000
# A word shorter than this is not a topic's word.
MIN_WORD = 3

STOP_WORDS = frozenset(
    """
    about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each few for from further get got had hadn't has
    hasn't have haven't having he her here hers herself him himself his how however i i'm
    i've if in into is isn't it it's its itself just let's like me more most much must my
    myself need needs no nor not now of off on once one only or other ought our ours
    ourselves out over own please same she should shouldn't so some still such than thank
    thanks that that's the their theirs them themselves then there these they this those
    through to too under until up very was wasn't we we're were weren't what when where
    which while who whom why will with won't would wouldn't yes yet you your yours yourself
    hello hi dear regards best team kind sent re fwd fw hey ok okay today yesterday tomorrow
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_WORD = re.compile(r"[a-z][a-z0-9']*")
# Punctuation ends a phrase as a stop word does.
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"|/\n]+")


def _fold(word: str) -> str:
    """A plural folded into its singular: "refunds" and "refund" are one topic."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: str) -> list[tuple[str, str] | None]:
    """(key, surface) per word; None where a stop word or a short word breaks a phrase."""
    out: list[tuple[str, str] | None] = []
    for part in _BREAK.split(text.lower()):
        for raw in _WORD.findall(part):
            word = raw.removesuffix("'s").strip("'")
            if len(word) < MIN_WORD or word in STOP_WORDS or word.isdigit():
                out.append(None)
            else:
                out.append((_fold(word), word))
        out.append(None)
    return out


def phrases(text: str) -> dict[str, str]:
    """The text's phrases, key to the words written: each word, and each pair of
    neighbouring words, after the stop words are removed (they break a pair)."""
    found: dict[str, str] = {}
    words = _words(text)
    for i, item in enumerate(words):
        if item is None:
            continue
        found.setdefault(item[0], item[1])
        following = words[i + 1] if i + 1 < len(words) else None
        if following is not None and following[0] != item[0]:
            found.setdefault(f"{item[0]} {following[0]}", f"{item[1]} {following[1]}")
    return found


def phrase_keys(text: str) -> set[str]:
    return set(phrases(text))


@dataclass(frozen=True)
class Mined:
    key: str
    phrase: str
    count: int


def mine(
    texts: Iterable[str], *, limit: int = TOPIC_LIMIT, min_tickets: int = MIN_TICKETS
) -> list[Mined]:
    """The `limit` phrases most tickets share (at least `min_tickets` each), largest first.

    Grouping: a word is left out when a two-word phrase holding it covers at least half
    of its tickets ("refund" inside "refund delay"); the pair stands for the group."""
    counts: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for key, surface in phrases(text).items():
            counts[key] += 1
            surfaces[key][surface] += 1
    candidates = {k: n for k, n in counts.items() if n >= min_tickets}
    widest_pair: dict[str, int] = {}
    for key, n in candidates.items():
        if " " in key:
            for word in key.split(" "):
                widest_pair[word] = max(widest_pair.get(word, 0), n)
    chosen = [
        Mined(key, _most_written(surfaces[key]), n)
        for key, n in candidates.items()
        if " " in key or widest_pair.get(key, 0) * 2 < n
    ]
    chosen.sort(key=lambda m: (-m.count, m.key))
    return chosen[:limit]


def _most_written(surfaces: Counter[str]) -> str:
    return min(surfaces.items(), key=lambda item: (-item[1], item[0]))[0]


@dataclass(frozen=True)
class TicketText:
    number: int
    created_at: datetime
    kind: str
    mailbox_id: int
    team_id: int | None
    text: str


def ticket_texts(start: datetime, end: datetime) -> Iterator[TicketText]:
    """Each ticket created in [start, end): its subject and first customer message."""
    first = (
        Message.objects.filter(ticket=OuterRef("pk"), direction=Direction.INBOUND)
        .order_by("created_at", "pk")
        .values("body_text")[:1]
    )
    rows = (
        Ticket.objects.filter(created_at__gte=start, created_at__lt=end, merged_into=None)
        .annotate(first=Left(Subquery(first), FIRST_MESSAGE_CHARS))
        .order_by()
        .values_list("pk", "created_at", "kind", "mailbox_id", "team_id", "subject", "first")
    )
    for number, created_at, kind, mailbox_id, team_id, subject, body in rows.iterator(5000):
        yield TicketText(number, created_at, kind, mailbox_id, team_id, f"{subject}\n{body or ''}")


def match_tickets(texts: Iterable[TicketText], topics: dict[str, int], *, new: bool = False) -> int:
    """Record the topics (key to id) each ticket matches; rows already there stay.

    `new`: the topics were created just now, so no row of theirs exists and the rows go
    in with COPY (a tenth of the time of INSERT at a year of tickets); should the
    ten-minute task have matched some meanwhile, that chunk goes the INSERT way."""
    rows: list[TicketTopic] = []
    written = 0
    for t in texts:
        for key in phrase_keys(t.text) & topics.keys():
            rows.append(
                TicketTopic(
                    topic_id=topics[key],
                    ticket_id=t.number,
                    created_at=t.created_at,
                    kind=t.kind,
                    mailbox_id=t.mailbox_id,
                    team_id=t.team_id,
                )
            )
        if len(rows) >= WRITE_CHUNK:
            written += _write(rows, new=new)
            rows = []
    return written + _write(rows, new=new)


def _write(rows: list[TicketTopic], *, new: bool) -> int:
    if not rows:
        return 0
    if new:
        try:
            with transaction.atomic():
                copy_rows(rows, with_pk=False)
        except IntegrityError:
            pass
        else:
            return len(rows)
    return len(TicketTopic.objects.bulk_create(rows, ignore_conflicts=True))


def refresh_topics(*, now: datetime | None = None) -> list[Topic]:
    """Mine the topics of the last MINING_WINDOW and match the last MATCH_HORIZON of
    tickets to the new ones (the nightly task, and `recompute_metrics`)."""
    now = now or timezone.now()
    mined = mine(t.text for t in ticket_texts(now - MINING_WINDOW, now))
    with transaction.atomic():
        Topic.objects.exclude(key__in=[m.key for m in mined]).delete()
        known = set(Topic.objects.values_list("key", flat=True))
        for m in mined:
            Topic.objects.update_or_create(
                key=m.key, defaults={"phrase": m.phrase, "mined_at": now}
            )
        new = dict(
            Topic.objects.filter(key__in=[m.key for m in mined if m.key not in known]).values_list(
                "key", "pk"
            )
        )
    if new:
        match_tickets(ticket_texts(now - MATCH_HORIZON, now + timedelta(seconds=1)), new, new=True)
        rebuild_days(topic_ids=list(new.values()))
    # The kept topics' recent tickets, should the ten-minute task have missed some.
    match_recent(now=now, since=RECENT_MATCH * 2)
    return list(Topic.objects.all())


def match_recent(*, now: datetime | None = None, since: timedelta | None = None) -> int:
    """Match the tickets created lately to the current topics (every ten minutes, over
    the last day: a worker down for hours loses nothing)."""
    since = since or RECENT_MATCH
    now = now or timezone.now()
    topics = dict(Topic.objects.values_list("key", "pk"))
    if not topics:
        return 0
    written = match_tickets(ticket_texts(now - since, now + timedelta(seconds=1)), topics)
    rebuild_days(since=timezone.localtime(now - since).date())
    return written


@dataclass(frozen=True)
class TopicFilters:
    start: datetime
    end: datetime
    team_id: int | None = None
    mailbox_id: int | None = None
    kind: str | None = None

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    def q(self) -> Q:
        q = Q()
        if self.team_id is not None:
            q &= Q(team_id=self.team_id)
        if self.mailbox_id is not None:
            q &= Q(mailbox_id=self.mailbox_id)
        if self.kind and self.kind != "all":
            q &= Q(kind=self.kind)
        return q


@dataclass(frozen=True)
class WindowTopic:
    id: int
    phrase: str
    count: int
    previous_count: int


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.get_current_timezone())


def _whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The local days wholly inside [start, end), as [first, last + 1); None if none."""
    first = timezone.localtime(start).date()
    if _midnight(first) < start:
        first += timedelta(days=1)
    stop = timezone.localtime(end).date()
    return (first, stop) if first < stop else None


def _parts(start: datetime, end: datetime) -> tuple[Q, Q]:
    """[start, end) as a filter of TicketTopic (the partial days) and one of TopicDay
    (the whole days); an empty part is a filter that matches nothing."""
    days = _whole_days(start, end)
    if days is None:
        return Q(created_at__gte=start, created_at__lt=end), Q(pk__in=[])
    edges = Q(pk__in=[])
    for low, high in ((start, _midnight(days[0])), (_midnight(days[1]), end)):
        if low < high:
            edges |= Q(created_at__gte=low, created_at__lt=high)
    return edges, Q(day__gte=days[0], day__lt=days[1])


def _counts(windows: list[tuple[datetime, datetime]], q: Q) -> list[Counter[int]]:
    """Tickets per topic created in each window: whole days summed from TopicDay, the
    rest counted in TicketTopic, every window in one query of each table."""
    parts = [_parts(start, end) for start, end in windows]
    counts: list[Counter[int]] = [Counter() for _ in windows]
    for model, index, total in ((TicketTopic, 0, Count("pk")), (TopicDay, 1, Sum("count"))):
        wanted = Q(pk__in=[])
        for part in parts:
            wanted |= part[index]
        names = [f"w{i}" for i in range(len(windows))]
        rows = (
            model.objects.filter(q, wanted)
            .values("topic_id")
            .annotate(
                **{
                    name: _filtered(total, part[index])
                    for name, part in zip(names, parts, strict=True)
                }
            )
            .order_by()
        )
        for row in rows:
            # Mapping: the window columns' names are made above, unknown to the type.
            values: Mapping[str, Any] = row
            for i, name in enumerate(names):
                counts[i][values["topic_id"]] += values[name] or 0
    return counts


def _filtered(total: Count | Sum, where: Q) -> Count | Sum:
    (expression,) = total.source_expressions
    return type(total)(expression, filter=where)


def window_topics(filters: TopicFilters, limit: int = TOPIC_LIMIT) -> list[WindowTopic]:
    """Topics of the window with their count and the previous window's, largest first,
    ties by phrase (three queries: the partial days, the whole days, the phrases)."""
    now, before = _counts(
        [(filters.start, filters.end), (filters.previous_start, filters.start)], filters.q()
    )
    shown = [pk for pk, n in now.items() if n]
    if not shown:
        return []
    phrases = dict(Topic.objects.filter(pk__in=shown).values_list("pk", "phrase"))
    rows = [WindowTopic(pk, phrases[pk], now[pk], before[pk]) for pk in shown if pk in phrases]
    rows.sort(key=lambda t: (-t.count, t.phrase))
    return rows[:limit]


def rebuild_days(*, since: date | None = None, topic_ids: list[int] | None = None) -> None:
    """Count TopicDay again from TicketTopic: the days from `since` on, or every day of
    `topic_ids` (one DELETE, one INSERT ... SELECT ... GROUP BY)."""
    zone = timezone.get_current_timezone_name()
    where, params = (
        ("t.created_at >= %s", [_midnight(since)])
        if since
        else ("t.topic_id = ANY(%s)", [topic_ids or []])
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if since:
            TopicDay.objects.filter(day__gte=since).delete()
        else:
            TopicDay.objects.filter(topic_id__in=topic_ids or []).delete()
        cursor.execute(
            f"""INSERT INTO service_topicday (topic_id, day, kind, mailbox_id, team_id, count)
                SELECT t.topic_id, (t.created_at AT TIME ZONE %s)::date, t.kind, t.mailbox_id,
                       t.team_id, count(*)
                FROM service_tickettopic t WHERE {where}
                GROUP BY 1, 2, 3, 4, 5""",  # noqa: S608 - `where` is one of two constants
            [zone, *params],
        )


def topic_tickets(topic_id: int, filters: TopicFilters) -> Q:
    """The filter of a topic's tickets in the window (the drill-down)."""
    matched = TicketTopic.objects.filter(
        filters.q(), topic_id=topic_id, created_at__gte=filters.start, created_at__lt=filters.end
    ).values("ticket_id")
    return Q(pk__in=matched)
