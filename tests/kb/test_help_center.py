import pytest
from django.test import Client
from django.urls import reverse

from kb.models import Article, ArticleFeedback, ArticleStatus, SearchQueryLog, Visibility
from tests.conftest import Personas
from tests.factories import make_article, make_section

pytestmark = pytest.mark.django_db


def test_home_lists_categories_and_search_without_signing_in(
    client: Client, personas: Personas
) -> None:
    make_article("Reset your password", section=make_section("Account", "Signing in"))
    make_article("Only a draft", section=make_section("Billing", "Invoices"), status="draft")
    response = client.get(reverse("kb:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Account" in body
    assert "1 article" in body
    assert "Billing" not in body  # holds nothing a reader may see
    assert 'role="search"' in body


def test_home_query_count_does_not_grow_with_categories(
    client: Client, personas: Personas, django_assert_num_queries
) -> None:
    for n in range(3):
        make_article(f"Article {n}", section=make_section(f"Topic {n}", "General"))
    client.get(reverse("kb:home"))  # the branding row, then held per process
    # 1 categories with their readable-article counts, 1 popular articles.
    with django_assert_num_queries(2):
        client.get(reverse("kb:home"))
    for n in range(3, 12):
        make_article(f"Article {n}", section=make_section(f"Topic {n}", "General"))
    with django_assert_num_queries(2):
        assert client.get(reverse("kb:home")).status_code == 200


def test_category_page_lists_sections_and_articles(client: Client, personas: Personas) -> None:
    section = make_section("Account", "Signing in")
    make_article("Reset your password", section=section)
    make_article("Secret agent tricks", section=section, visibility=Visibility.INTERNAL)
    response = client.get(reverse("kb:category", args=["account"]))
    assert response.status_code == 200
    assert "Reset your password" in response.content.decode()
    assert "Secret agent tricks" not in response.content.decode()
    assert client.get(reverse("kb:category", args=["nope"])).status_code == 404


def test_article_page_renders_counts_views_and_redirects_old_slugs(
    client: Client, personas: Personas
) -> None:
    article = make_article("Reset your password", "Press **Reset**.\n\n<script>x()</script>")
    other = make_article("Change your email", section=article.section)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>Reset</strong>" in body
    assert "<script>x()" not in body
    assert "Change your email" in body  # related: same section
    assert "Updated" in body
    article.refresh_from_db()
    assert article.view_count == 1
    old = client.get(f"/help/articles/{article.pk}-old-title/")
    assert old.status_code == 301
    assert old["Location"] == article.get_absolute_url()
    assert client.get(f"/help/articles/{article.pk}/").status_code == 301
    assert other.pk != article.pk


def test_drafts_and_internal_articles_are_404_to_customers(
    client: Client, personas: Personas
) -> None:
    draft = make_article("Draft", status=ArticleStatus.DRAFT)
    internal = make_article("Internal", visibility=Visibility.INTERNAL)
    for article in (draft, internal):
        assert client.get(article.get_absolute_url()).status_code == 404
    client.force_login(personas.customer.user)
    for article in (draft, internal):
        assert client.get(article.get_absolute_url()).status_code == 404
    client.force_login(personas.agent_a)
    for article in (draft, internal):
        assert client.get(article.get_absolute_url()).status_code == 200


def test_search_page_ranks_highlights_and_logs_unanswered(
    client: Client, personas: Personas
) -> None:
    make_article("Reset your password", "Open settings.")
    response = client.get(reverse("kb:search"), {"q": "password"})
    assert response.status_code == 200
    assert "<mark>password</mark>" in response.content.decode()
    response = client.get(reverse("kb:search"), {"q": "<b>teleport</b>"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "No articles match" in body
    assert "&lt;b&gt;teleport&lt;/b&gt;" in body
    assert "<b>teleport</b>" not in body
    logged = list(SearchQueryLog.objects.order_by("at").values_list("query", "result_count"))
    assert logged == [("password", 1), ("<b>teleport</b>", 0)]


def test_feedback_vote_and_comment_one_vote_per_reader(client: Client, personas: Personas) -> None:
    article = make_article("Reset your password")
    url = reverse("kb:feedback", args=[article.pk])
    response = client.post(url, {"helpful": "no"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "What was missing" in response.content.decode()
    client.post(url, {"helpful": "no", "comment": "Which settings page?"})
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (0, 1)
    assert ArticleFeedback.objects.get().comment == "Which settings page?"
    client.post(url, {"helpful": "yes"})  # changes the vote, keeps the comment
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 0)
    assert ArticleFeedback.objects.count() == 1
    assert client.post(url, {"helpful": "maybe"}).status_code == 302
    assert client.get(url).status_code == 405
    assert Article.objects.get().helpful_count == 1
