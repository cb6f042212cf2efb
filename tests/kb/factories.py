"""Knowledge-base factories shared by the kb, portal and browser tests."""

from __future__ import annotations

import itertools
from typing import Any

from kb import services
from kb.models import Article, ArticleStatus, Category, Section, Visibility
from tickets.models import User

_seq = itertools.count(1)


def make_section(category: str = "Account", section: str = "Signing in") -> Section:
    cat, _ = Category.objects.get_or_create(
        slug=category.lower().replace(" ", "-"), defaults={"name": category}
    )
    found, _ = Section.objects.get_or_create(category=cat, name=section)
    return found


def make_article(
    title: str | None = None,
    body: str = "Some helpful words.",
    *,
    section: Section | None = None,
    author: User | None = None,
    status: str = ArticleStatus.PUBLISHED,
    visibility: str = Visibility.PUBLIC,
    **fields: Any,
) -> Article:
    if author is None:
        author = User.objects.filter(role="agent").first() or User.objects.create_user(
            username=f"writer{next(_seq)}@staff.test",
            email=f"writer{next(_seq)}@staff.test",
            role="agent",
        )
    return services.save_article(
        Article(),
        editor=author,
        title=title or f"Article {next(_seq)}",
        body_markdown=body,
        section=section or make_section(),
        status=status,
        visibility=visibility,
        **fields,
    )
