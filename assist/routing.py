"""Learned routing: team, kind and priority predicted from a ticket's subject and first
message, by models trained on the desk's own solved tickets.

scikit-learn: one TF-IDF vocabulary (words and word pairs) and a logistic regression per
field. Nothing leaves the machine and nothing is downloaded. Training holds out a fifth
of the history to measure accuracy per field, then fits again on all of it; the words
that weigh most for each team are kept so an admin can see why it routes as it does.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

import joblib
from django.conf import settings
from django.db.models import OuterRef, Subquery
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from assist.models import ROUTED_FIELDS, RoutingModel
from helpdesk.local_cache import VersionedCache
from tickets.models import DONE_STATUSES, Direction, Message, Team, Ticket

log = logging.getLogger(__name__)

# Fewer solved tickets than this (or a single value) and a field is not learned.
MIN_SAMPLES = 20
MIN_PER_CLASS = 2
TEXT_CHARS = 2000
TOP_WORDS = 12


def ticket_text(subject: str, body: str) -> str:
    """What the model reads: the subject and the start of the first customer message."""
    return f"{subject}\n{(body or '')[:TEXT_CHARS]}"


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        sublinear_tf=True,
        ngram_range=(1, 2),
        min_df=1,
        max_features=100_000,
        stop_words="english",
        strip_accents="unicode",
    )


def _classifier() -> LogisticRegression:
    return LogisticRegression(max_iter=2000, C=10.0)


def training_rows(limit: int | None = None) -> list[dict[str, Any]]:
    """The newest solved or closed tickets (ASSIST_TRAINING_LIMIT), with their team's
    name, kind, priority and text: one query."""
    limit = limit or settings.ASSIST_TRAINING_LIMIT
    first_body = (
        Message.objects.filter(ticket=OuterRef("pk"), direction=Direction.INBOUND)
        .order_by("created_at", "id")
        .values("body_text")[:1]
    )
    rows = (
        Ticket.objects.filter(status__in=DONE_STATUSES, merged_into__isnull=True)
        .annotate(first_body=Subquery(first_body))
        .order_by("-number")
        .values("subject", "first_body", "team__name", "kind", "priority")[:limit]
    )
    return [
        {
            "text": ticket_text(row["subject"], row["first_body"]),
            "team": row["team__name"],
            "kind": row["kind"],
            "priority": row["priority"],
        }
        for row in rows
    ]


def _learnable(labels: list[str | None]) -> bool:
    counts = Counter(label for label in labels if label)
    return sum(counts.values()) >= MIN_SAMPLES and len(counts) >= 2


def _evaluate(texts: list[str], labels: list[str]) -> dict[str, Any]:
    """Held-out accuracy: fit on four fifths, score the fifth never seen."""
    counts = Counter(labels)
    stratify = labels if min(counts.values()) >= MIN_PER_CLASS else None
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=0.2, random_state=0, stratify=stratify
    )
    vectorizer = _vectorizer()
    model = _classifier().fit(vectorizer.fit_transform(train_x), train_y)
    accuracy = float(model.score(vectorizer.transform(test_x), test_y))
    return {"accuracy": accuracy, "held_out": len(test_y), "classes": len(counts)}


def _top_words(vectorizer: TfidfVectorizer, model: LogisticRegression) -> dict[str, list[str]]:
    names = vectorizer.get_feature_names_out()
    classes = list(model.classes_)
    weights = model.coef_
    top: dict[str, list[str]] = {}
    # Two classes have one row of weights: for the second class, against the first.
    rows = [-weights[0], weights[0]] if len(classes) == 2 else list(weights)
    for label, row in zip(classes, rows, strict=True):
        best = row.argsort()[::-1][:TOP_WORDS]
        top[str(label)] = [str(names[i]) for i in best if row[i] > 0]
    return top


def train(rows: list[dict[str, Any]] | None = None) -> RoutingModel:
    """Train on the desk's history (or `rows`), store the run, and put it in use."""
    rows = training_rows() if rows is None else rows
    texts_all = [row["text"] for row in rows]
    evaluation: dict[str, Any] = {}
    pipelines: dict[str, Any] = {}
    top_words: dict[str, list[str]] = {}
    vectorizer = _vectorizer()
    fitted = False
    for field in ROUTED_FIELDS:
        pairs = [(row["text"], row[field]) for row in rows if row[field]]
        labels = [label for _, label in pairs]
        if not _learnable(labels):
            evaluation[field] = {"skipped": "too few solved tickets with two or more values"}
            continue
        texts = [text for text, _ in pairs]
        evaluation[field] = _evaluate(texts, labels)
        if not fitted:
            vectorizer.fit(texts_all)
            fitted = True
        model = _classifier().fit(vectorizer.transform(texts), labels)
        pipelines[field] = model
        if field == "team":
            top_words = _top_words(vectorizer, model)
    buffer = io.BytesIO()
    joblib.dump({"vectorizer": vectorizer if fitted else None, "models": pipelines}, buffer)
    run = RoutingModel.objects.create(
        samples=len(rows),
        evaluation=evaluation,
        top_words=top_words,
        pipelines=buffer.getvalue(),
    )
    _models.bump()
    log.info("assist: trained routing on %s tickets: %s", len(rows), evaluation)
    return run


@dataclass(frozen=True)
class Loaded:
    run_id: int
    vectorizer: TfidfVectorizer | None
    models: dict[str, LogisticRegression]


def _load() -> Loaded | None:
    run = RoutingModel.objects.order_by("-trained_at", "-id").first()
    if run is None:
        return None
    stored = joblib.load(io.BytesIO(bytes(run.pipelines)))
    return Loaded(run.pk, stored["vectorizer"], stored["models"])


# The model in use, held per process until a training run bumps the version.
_models: VersionedCache[Loaded | None] = VersionedCache("assist-routing", _load)


def current() -> Loaded | None:
    return _models.get()


@dataclass(frozen=True)
class Prediction:
    field: str
    value: str
    confidence: float


def predict(ticket: Ticket, text: str) -> list[Prediction]:
    """The best value of each learned field for `text`, with its probability. A team is
    chosen among those that work the ticket's mailbox (the rule every door obeys)."""
    loaded = current()
    if loaded is None or loaded.vectorizer is None:
        return []
    features = loaded.vectorizer.transform([text])
    allowed_teams: set[str] | None = None
    out: list[Prediction] = []
    for field, model in loaded.models.items():
        probabilities = model.predict_proba(features)[0]
        ranked = sorted(zip(model.classes_, probabilities, strict=True), key=lambda p: -p[1])
        if field == "team":
            if allowed_teams is None:
                allowed_teams = set(
                    Team.objects.filter(mailboxes=ticket.mailbox_id).values_list("name", flat=True)
                )
            ranked = [pair for pair in ranked if pair[0] in allowed_teams]
        if ranked:
            value, probability = ranked[0]
            out.append(Prediction(field, str(value), float(probability)))
    return out


def keywords(text: str, limit: int = 6) -> list[str]:
    """The words of `text` that say most about it: by TF-IDF weight when a model is
    trained (rare words first), else the longest words that are not stop words."""
    loaded = current()
    if loaded is not None and loaded.vectorizer is not None:
        vector = loaded.vectorizer.transform([text])
        names = loaded.vectorizer.get_feature_names_out()
        order = vector.data.argsort()[::-1]
        words: list[str] = []
        for position in order:
            for word in str(names[vector.indices[position]]).split():
                if word not in words and word.isalpha():
                    words.append(word)
            if len(words) >= limit:
                break
        if words:
            return words[:limit]
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    seen: list[str] = []
    for word in (w.lower() for w in text.split()):
        word = "".join(ch for ch in word if ch.isalpha())
        if len(word) > 2 and word not in ENGLISH_STOP_WORDS and word not in seen:
            seen.append(word)
    return sorted(seen, key=len, reverse=True)[:limit]
