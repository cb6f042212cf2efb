"""Articles in other languages: shown to readers of that language with a switcher, and
searched with their language's own text-search configuration (its stemmer)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from kb import services
from kb.models import ArticleStatus, ArticleTranslation, Visibility
from kb.search import search_articles, search_translations
from tests.conftest import Personas
from tests.factories import make_article, make_user
from tickets.models import Role

pytestmark = pytest.mark.django_db

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}


def german_article(personas: Personas, *, status: str = ArticleStatus.PUBLISHED):  # type: ignore[no-untyped-def]
    article = make_article("Reset your password", "Open Settings and choose a new password.")
    services.save_translation(
        article,
        "de",
        editor=personas.agent_a,
        title="Passwort zurücksetzen",
        body_markdown="Öffnen Sie die **Einstellungen** und wählen Sie neue Passwörter.",
        status=status,
    )
    return article


def test_a_german_word_form_finds_the_german_translation(personas: Personas) -> None:
    article = german_article(personas)
    # "Passwörtern" and "Einstellung" are other forms of the words the translation has:
    # the german stemmer finds them, the english configuration does not.
    for query in ("Passwörtern", "Einstellung"):
        hits = search_translations(query, user=None, language="de").hits
        assert [hit.article.pk for hit in hits] == [article.pk], query
        assert not search_articles(query, user=None).hits
    hit = search_translations("Einstellung", user=None, language="de").hits[0]
    assert "<mark>Einstellungen</mark>" in hit.snippet_html
    # Each language searches its own: nothing in French, and drafts are never found.
    assert not search_translations("Passwörter", user=None, language="fr").hits


def test_draft_translations_are_neither_shown_nor_found(personas: Personas) -> None:
    article = german_article(personas, status=ArticleStatus.DRAFT)
    assert not search_translations("Passwörter", user=None, language="de").hits
    page = Client().get(article.get_absolute_url(), **GERMAN).content.decode()
    assert "Reset your password</h1>" in page and "Passwort zurücksetzen" not in page


def test_help_center_shows_the_translation_with_a_switcher(personas: Personas) -> None:
    article = german_article(personas)
    page = Client().get(article.get_absolute_url(), **GERMAN).content.decode()
    assert "<h1>Passwort zurücksetzen</h1>" in page
    assert "<strong>Einstellungen</strong>" in page
    assert 'name="language" value="en"' in page  # "Auch auf: English"
    english = Client().get(article.get_absolute_url()).content.decode()
    assert "<h1>Reset your password</h1>" in english
    assert 'name="language" value="de"' in english
    # The help center's search, in German, finds it by a German word form.
    results = Client().get(reverse("kb:search"), {"q": "Passwörtern"}, **GERMAN)
    assert "</mark> zurücksetzen" in results.content.decode()


def test_only_languages_of_the_desk_can_be_translated_into(personas: Personas) -> None:
    article = make_article()
    for language in ("en", "it"):
        with pytest.raises(ValueError):
            services.save_translation(
                article, language, editor=personas.agent_a, title="x", body_markdown="y"
            )


SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_locations(client: Client) -> dict[str, str | None]:
    root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our own page
    return {
        url.findtext("s:loc", namespaces=SITEMAP_NS) or "": url.findtext(
            "s:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("s:url", SITEMAP_NS)
    }


def test_an_agent_writes_and_publishes_a_german_translation(
    client: Client, personas: Personas, settings
) -> None:
    settings.SITE_URL = "https://help.example.com"
    article = make_article("Reset your password", "Open Settings and choose a new password.")
    client.force_login(personas.agent_a)
    edit = client.get(reverse("kb:edit", args=[article.pk])).content.decode()
    editor = reverse("kb:article_language", args=[article.pk, "de"])
    assert f'href="{editor}"' in edit  # the article's page links each language's editor

    form = client.get(editor)
    assert form.status_code == 200
    assert "Open Settings and choose a new password." in form.content.decode()  # the original
    response = client.post(
        editor,
        {
            "title": "Passwort zurücksetzen",
            "body_markdown": "Öffnen Sie die *Einstellungen*.",
            "status": "draft",
        },
    )
    assert response.status_code == 302 and response["Location"] == editor
    translation = ArticleTranslation.objects.get(article=article, language="de")
    assert (translation.title, translation.status) == ("Passwort zurücksetzen", "draft")
    assert translation.body_html == "<p>Öffnen Sie die <em>Einstellungen</em>.</p>"
    german_url = f"https://help.example.com{article.get_absolute_url()}?lang=de"
    # A draft: not in the help center in German, not in the sitemap.
    page = Client().get(article.get_absolute_url(), **GERMAN).content.decode()
    assert "Passwort zurücksetzen" not in page
    assert german_url not in sitemap_locations(Client())

    client.post(
        editor,
        {
            "title": "Passwort zurücksetzen",
            "body_markdown": "Öffnen Sie die *Einstellungen*.",
            "status": "published",
        },
    )
    translation.refresh_from_db()
    assert translation.status == "published"
    page = Client().get(article.get_absolute_url(), **GERMAN).content.decode()
    assert "<h1>Passwort zurücksetzen</h1>" in page
    # The address with the language shows it to anyone, whatever their browser says.
    by_address = Client().get(f"{article.get_absolute_url()}?lang=de").content.decode()
    assert "<h1>Passwort zurücksetzen</h1>" in by_address and '<html lang="de"' in by_address
    assert f'<link rel="canonical" href="{german_url}">' in by_address
    assert f'<link rel="alternate" hreflang="de" href="{german_url}">' in by_address
    assert 'hreflang="x-default"' in by_address
    assert sitemap_locations(Client())[german_url] == translation.updated_at.date().isoformat()

    # Negatives: an unknown language is a 404, a light agent a 403, a customer never gets in.
    assert client.get(reverse("kb:article_language", args=[article.pk, "it"])).status_code == 404
    assert client.get(reverse("kb:article_language", args=[article.pk, "en"])).status_code == 404
    assert client.get(reverse("kb:article_language", args=[99999, "de"])).status_code == 404
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a], email="light@staff.test")
    client.force_login(light)
    assert client.post(editor, {"title": "Nein", "status": "draft"}).status_code == 403
    client.force_login(personas.customer.user)
    assert client.get(editor).status_code in (302, 403, 404)
    assert client.put(editor).status_code in (302, 403, 404, 405)


def test_the_sitemap_lists_only_published_translations_of_public_articles(
    personas: Personas,
) -> None:
    public = german_article(personas)
    draft_translation = german_article(personas, status=ArticleStatus.DRAFT)
    internal = make_article("Agents only", visibility=Visibility.INTERNAL)
    unpublished = make_article("Not yet", status=ArticleStatus.DRAFT)
    for article in (internal, unpublished):
        services.save_translation(
            article,
            "fr",
            editor=personas.agent_a,
            title="Non",
            body_markdown="x",
            status=ArticleStatus.PUBLISHED,
        )
    listed = {loc for loc in sitemap_locations(Client()) if "?lang=" in loc}
    assert listed == {f"{settings.SITE_URL}{public.get_absolute_url()}?lang=de"}
    assert draft_translation.pk != public.pk
