import pytest
from django.test import Client

from kb.models import SearchQueryLog, Visibility
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
