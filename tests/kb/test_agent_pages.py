from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kb.models import Article, ArticleFeedback, RequestFormVisit, SearchQueryLog
from kb.reports import knowledge_gap_report
from kb.services import log_search, record_feedback, save_article
from tests.conftest import Personas
from tests.factories import make_article, make_section, make_user
from tickets.models import Role
from tickets.services import NotPermitted

pytestmark = pytest.mark.django_db


def test_agent_writes_and_publishes_an_article(client: Client, personas: Personas) -> None:
    section = make_section()
    client.force_login(personas.agent_a)
    response = client.post(
        reverse("kb:create"),
        {
            "title": "  Two-factor   sign-in ",
            "section": section.pk,
            "body_markdown": "Scan the **QR code**.<script>alert(1)</script>",
            "status": "published",
            "visibility": "public",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("kb:edit", args=[article.pk])
    assert article.title == "Two-factor sign-in"
    assert article.slug == "two-factor-sign-in"
    assert article.body_html == "<p>Scan the <strong>QR code</strong>.</p>"
    assert article.author == personas.agent_a
    assert article.published_at is not None
    other = make_article("Backup codes", section=section)
    response = client.post(
        reverse("kb:edit", args=[article.pk]),
        {
            "title": "Two-factor sign-in",
            "section": section.pk,
            "body_markdown": "Updated.",
            "status": "draft",
            "visibility": "internal",
            "related": [other.pk],
        },
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert list(article.related.all()) == [other]
    assert article.visibility == "internal"
    assert article.updated_by == personas.agent_a


def test_article_form_reports_errors(client: Client, personas: Personas) -> None:
    client.force_login(personas.agent_a)
    response = client.post(reverse("kb:create"), {"title": "x", "status": "nope"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "at least 3 characters" in body
    assert "This field is required." in body
    assert not Article.objects.exists()


def test_edit_page_shows_views_votes_and_comments(client: Client, personas: Personas) -> None:
    article = make_article("Reset your password")
    record_feedback(article, helpful=False, voter_key="a", comment="Where is <b>Settings</b>?")
    client.force_login(personas.agent_b)
    body = client.get(reverse("kb:edit", args=[article.pk])).content.decode()
    assert "Where is &lt;b&gt;Settings&lt;/b&gt;?" in body
    assert "Not helpful" in body


def test_customers_and_anonymous_never_reach_agent_pages(
    client: Client, personas: Personas
) -> None:
    article = make_article()
    urls = [
        reverse("kb:manage"),
        reverse("kb:create"),
        reverse("kb:edit", args=[article.pk]),
        reverse("kb:gaps"),
        reverse("kb:reply_suggestions") + "?kbq=x",
    ]
    for url in urls:
        assert client.get(url)["Location"].startswith("/login/")
    client.force_login(personas.customer.user)
    for url in urls:
        assert client.get(url)["Location"] == reverse("portal:home")
    assert client.post(reverse("kb:create"), {"title": "Hacked"}).status_code == 404
    assert Article.objects.count() == 1


def test_article_list_query_count_is_constant(
    client: Client, personas: Personas, django_assert_num_queries
) -> None:
    client.force_login(personas.agent_a)
    for n in range(3):
        make_article(f"Article {n}")
    # The count for the paginator, the page with section, category and editor; the
    # session and the user come from the cache after the first request.
    client.get(reverse("kb:manage"))
    with django_assert_num_queries(2):
        client.get(reverse("kb:manage"))
    for n in range(3, 20):
        make_article(f"Article {n}", section=make_section(f"Topic {n}", "General"))
    with django_assert_num_queries(2):
        response = client.get(reverse("kb:manage"), {"status": "published"})
    assert response.status_code == 200
    assert "Article 19" in response.content.decode()


def test_reply_suggestions_partial_offers_link_and_text(client: Client, personas: Personas) -> None:
    make_article("Reset your password", "Press **Reset**.")
    client.force_login(personas.agent_a)
    response = client.get(
        reverse("kb:reply_suggestions"), {"kbq": "password"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-kb-insert="link"' in body
    assert 'data-kb-insert="text"' in body
    assert "/help/articles/" in body
    assert "<html" not in body
    assert not SearchQueryLog.objects.exists()


def test_gap_report_counts_unanswered_searches_helpfulness_and_deflection(
    personas: Personas,
) -> None:
    article = make_article("Reset your password")
    for _ in range(3):
        log_search("Teleport  setup", source="help", result_count=0)
    log_search("refund", source="help", result_count=0)
    log_search("password", source="help", result_count=2)
    for key in "abc":
        record_feedback(article, helpful=key == "a", voter_key=key)
    customer = personas.customer
    RequestFormVisit.objects.create(customer=customer)
    RequestFormVisit.objects.create(customer=customer, first_opened_at=timezone.now())
    RequestFormVisit.objects.create(customer=customer, first_opened_at=timezone.now())
    now = timezone.now()
    report = knowledge_gap_report(now - timedelta(days=1), now + timedelta(seconds=1))
    assert [(row.query, row.searches) for row in report.unanswered] == [
        ("teleport setup", 3),
        ("refund", 1),
    ]
    assert (report.searches, report.unanswered_searches) == (5, 4)
    assert report.least_helpful == [article]
    assert report.deflection.form_visits == 3
    assert report.deflection.deflected == 2
    assert report.deflection.rate == pytest.approx(2 / 3)
    assert ArticleFeedback.objects.count() == 3
    # The dashboards' variant: the same window figures, no article ranking.
    light = knowledge_gap_report(
        now - timedelta(days=1), now + timedelta(seconds=1), with_articles=False
    )
    assert light.least_helpful == []
    assert (light.unanswered, light.searches, light.deflection) == (
        report.unanswered,
        report.searches,
        report.deflection,
    )


def test_gaps_page_shows_the_report(client: Client, personas: Personas) -> None:
    log_search("<i>teleport</i>", source="help", result_count=0)
    client.force_login(personas.manager)
    response = client.get(reverse("kb:gaps"), {"days": "abc"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "&lt;i&gt;teleport&lt;/i&gt;" in body
    assert "Deflection rate" in body


def test_ticket_reply_form_carries_the_article_search(client: Client, personas: Personas) -> None:
    from tests.factories import make_ticket

    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client.force_login(personas.agent_a)
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert 'data-kb-target="#reply-body"' in body
    assert reverse("kb:reply_suggestions") in body
    assert "tandem/kb-reply.js" in body


def test_the_editor_previews_markdown_as_saving_would(client: Client, personas: Personas) -> None:
    """The live preview: sanitized like the article (no script, no javascript: link), its
    labels without Django's "Title:" suffix; agents only, POST only, a clear refusal of a
    body over the limit."""
    client.force_login(personas.agent_a)
    editor = client.get("/kb/new/").content.decode()
    assert '<label for="id_title">Title</label>' in editor and "Title:" not in editor
    assert 'hx-post="/kb/preview/"' in editor
    source = "## Hello\n\n**bold**\n\n[x](javascript:alert(1))\n\n<script>alert(1)</script>"
    page = client.post("/kb/preview/", {"body_markdown": source})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h2" in html and "Hello</h2>" in html and "<strong>bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html
    assert "Nothing to preview yet" in client.post("/kb/preview/", {}).content.decode()
    too_long = client.post("/kb/preview/", {"body_markdown": "x" * 100_001})
    assert too_long.status_code == 200 and "Too long to preview" in too_long.content.decode()
    assert client.get("/kb/preview/").status_code == 405
    client.force_login(personas.customer.user)
    assert client.post("/kb/preview/", {"body_markdown": "x"}).status_code in (302, 403, 404)


def test_light_agents_read_articles_but_never_write_them(
    client: Client, personas: Personas
) -> None:
    section = make_section()
    article = make_article("Two-factor sign-in", section=section)
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a], email="light@staff.test")
    client.force_login(light)
    listing = client.get(reverse("kb:manage")).content.decode()
    assert "Two-factor sign-in" in listing
    assert reverse("kb:create") not in listing
    assert reverse("kb:edit", args=[article.pk]) not in listing
    assert f'href="{article.get_absolute_url()}"' in listing
    page = client.get(article.get_absolute_url()).content.decode()
    assert reverse("kb:edit", args=[article.pk]) not in page

    form = {
        "title": "Rewritten",
        "section": section.pk,
        "body_markdown": "New words.",
        "status": "published",
        "visibility": "public",
    }
    for url in (reverse("kb:create"), reverse("kb:edit", args=[article.pk])):
        refused = client.get(url)
        assert refused.status_code == 403
        assert "cannot write, edit or publish articles" in refused.content.decode()
        assert client.post(url, form).status_code == 403
    assert client.post(reverse("kb:preview"), {"body_markdown": "x"}).status_code == 403
    assert list(Article.objects.values_list("title", flat=True)) == ["Two-factor sign-in"]
    # The API reads articles and writes none, for anyone.
    assert client.post("/api/v1/kb/articles/", form).status_code == 405
    assert client.get(f"/api/v1/kb/articles/{article.pk}/").status_code == 200
    # The rule is the service's, whatever door calls it.
    with pytest.raises(NotPermitted):
        save_article(Article(), editor=light, title="Draft", section=section, body_markdown="")
    with pytest.raises(NotPermitted):
        save_article(article, editor=light, status="draft")
    article.refresh_from_db()
    assert article.status == "published"
    # An agent still writes.
    client.force_login(personas.agent_a)
    assert client.post(reverse("kb:edit", args=[article.pk]), form).status_code == 302
    assert reverse("kb:create") in client.get(reverse("kb:manage")).content.decode()
