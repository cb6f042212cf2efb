"""The one way user-facing code loads an article: reading rule applied, 404 otherwise."""

from __future__ import annotations

from django.http import Http404

from kb.models import Article
from tickets.models import User
from tickets.permissions import is_agent


def get_article_for(user: User | None, pk: int | str, *, edit: bool = False) -> Article:
    """The article `pk` if `user` may read it; agents also see drafts (previews, editing).

    With edit=True only agents pass. Anything else is a 404, never a 403, so drafts and
    internal articles cannot be discovered by counting ids.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such article") from None
    staff = is_agent(user)
    if edit and not staff:
        raise Http404("No such article")
    articles = Article.objects.all() if staff else Article.objects.readable_by(user)
    try:
        return articles.select_related("section__category", "author", "updated_by").get(pk=pk)
    except Article.DoesNotExist:
        raise Http404("No such article") from None
