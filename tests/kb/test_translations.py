"""Articles in other languages: shown to readers of that language with a switcher, and
searched with their language's own text-search configuration (its stemmer)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kb import services
from kb.models import ArticleStatus
from kb.search import search_articles, search_translations
from tests.conftest import Personas
from tests.factories import make_article

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
