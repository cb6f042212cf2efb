import pytest
from django.test import Client

from kb.models import ArticleTranslation, SearchQueryLog, Visibility
from kb.services import save_translation
from tests.conftest import Personas
from tests.factories import make_article

pytestmark = pytest.mark.django_db

URL = "/api/v1/kb/articles/"


def test_search_is_ranked_with_snippets(client: Client, personas: Personas) -> None:
    make_article("Exporting orders", "A password reset is not needed.")
    make_article("Reset your password", "Open settings.")
    response = client.get(URL, {"q": "password reset"})
    assert response.status_code == 200
    data = response.json()
    assert data["match"] == "fulltext"
    assert [row["title"] for row in data["results"]] == ["Reset your password", "Exporting orders"]
    first = data["results"][0]
    assert first["rank"] > data["results"][1]["rank"]
    assert first["url"].endswith(f"/help/articles/{first['id']}-reset-your-password/")
    assert "<mark>password</mark>" in data["results"][1]["snippet"]
    assert SearchQueryLog.objects.get().source == "api"


def test_customers_and_anonymous_read_public_agents_also_internal(
    client: Client, personas: Personas
) -> None:
    make_article("Public password help")
    internal = make_article("Internal password notes", visibility=Visibility.INTERNAL)
    draft = make_article("Draft password notes", status="draft")
    assert [r["title"] for r in client.get(URL, {"q": "password"}).json()["results"]] == [
        "Public password help"
    ]
    assert client.get(f"{URL}{internal.pk}/").status_code == 404
    client.force_login(personas.customer.user)
    assert len(client.get(URL).json()["results"]) == 1
    client.force_login(personas.agent_a)
    titles = {r["title"] for r in client.get(URL).json()["results"]}
    assert titles == {"Public password help", "Internal password notes"}
    detail = client.get(f"{URL}{internal.pk}/")
    assert detail.status_code == 200
    assert detail.json()["body_html"] == "<p>Some helpful words.</p>"
    assert client.get(f"{URL}{draft.pk}/").status_code == 404


def test_bad_input_is_a_clear_400(client: Client, personas: Personas) -> None:
    response = client.get(URL, {"q": "   "})
    assert response.status_code == 400
    assert "q" in response.json()["errors"]
    assert client.get(URL, {"q": "x", "page_size": "500"}).status_code == 400
    assert client.get(URL, {"cursor": "garbage"}).status_code == 400
    assert client.get(f"{URL}abc/").status_code == 404


def test_list_query_count_is_constant(
    client: Client, personas: Personas, django_assert_num_queries
) -> None:
    for n in range(3):
        make_article(f"Article {n}")
    # The page of articles with section, category and author.
    with django_assert_num_queries(1):
        client.get(URL)
    for n in range(3, 15):
        make_article(f"Article {n}")
    with django_assert_num_queries(1):
        assert len(client.get(URL).json()["results"]) == 15


def test_an_article_shows_its_published_translations(
    client: Client, personas: Personas, settings, django_assert_num_queries
) -> None:
    settings.SITE_URL = "https://help.example.com"
    article = make_article("Reset your password", "Open *Settings*.")
    for language, status in (("es", "published"), ("de", "published"), ("fr", "draft")):
        save_translation(
            article,
            language,
            editor=personas.agent_a,
            title=f"Title {language}",
            body_markdown="*Hola*",
            status=status,
        )
    # 1 the article with its section, category, author and editor, 1 its translations.
    with django_assert_num_queries(2):
        data = client.get(f"{URL}{article.pk}/").json()
    german = ArticleTranslation.objects.get(language="de")
    assert [t["language"] for t in data["translations"]] == ["de", "es"]  # drafts never
    assert data["translations"][0] == {
        "language": "de",
        "title": "Title de",
        "url": f"https://help.example.com{article.get_absolute_url()}?lang=de",
        "updated_at": data["translations"][0]["updated_at"],
        "body_markdown": "*Hola*",
        "body_html": "<p><em>Hola</em></p>",
    }
    assert data["translations"][0]["updated_at"].startswith(german.updated_at.date().isoformat())
    # The list stays light: no translations there.
    assert "translations" not in client.get(URL).json()["results"][0]
