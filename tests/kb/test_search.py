import pytest

from kb.models import ArticleStatus, Visibility
from kb.search import MatchKind, search_articles, trigram_available
from tests.conftest import Personas
from tests.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(personas: Personas):  # type: ignore[no-untyped-def]
    return {
        "reset": make_article(
            "How to reset your password",
            "Open **Settings**, choose *Security* and press Reset. Passwords need 12 characters.",
        ),
        "export": make_article(
            "Exporting orders to CSV",
            "Use Export on the orders page. A password reset is not needed for exports.",
        ),
        "vat": make_article("Invoices and VAT numbers", "Your invoice shows your VAT number."),
        "draft": make_article(
            "Password policy draft", "Passwords rotate.", status=ArticleStatus.DRAFT
        ),
        "internal": make_article(
            "Password reset for locked enterprise accounts",
            "Agents: unlock in the admin first.",
            visibility=Visibility.INTERNAL,
        ),
    }


def test_title_match_ranks_above_body_match_with_highlighted_snippets(articles) -> None:
    result = search_articles("password reset", user=None)
    assert result.match == MatchKind.FULLTEXT
    titles = [hit.article.title for hit in result.hits]
    assert titles == ["How to reset your password", "Exporting orders to CSV"]
    top = result.hits[0]
    assert top.rank > result.hits[1].rank
    assert "<mark>reset</mark>" in top.title_html
    assert "<mark>Passwords</mark>" in top.snippet_html


def test_readers_see_published_public_articles_agents_also_internal(articles, personas) -> None:
    public = {hit.article.title for hit in search_articles("password", user=None).hits}
    assert "Password policy draft" not in public
    assert "Password reset for locked enterprise accounts" not in public
    customer = {
        hit.article.title for hit in search_articles("password", user=personas.customer.user).hits
    }
    assert customer == public
    agent = {hit.article.title for hit in search_articles("password", user=personas.agent_a).hits}
    assert "Password reset for locked enterprise accounts" in agent
    assert "Password policy draft" not in agent


def test_words_being_typed_match_by_prefix(articles) -> None:
    result = search_articles("passw", user=None)
    assert result.match == MatchKind.PREFIX
    assert result.hits[0].article.title == "How to reset your password"


def test_typos_fall_back_to_trigram_similarity(articles) -> None:
    assert trigram_available()  # this machine's PostgreSQL 15 has pg_trgm
    result = search_articles("pasword", user=None)
    assert result.match == MatchKind.TRIGRAM
    assert result.is_fuzzy
    assert result.hits[0].article.title == "How to reset your password"
    assert search_articles("invoces", user=None).hits[0].article.title == (
        "Invoices and VAT numbers"
    )


def test_without_pg_trgm_typos_find_nothing_but_prefixes_still_work(articles) -> None:
    """The path of the embedded PostgreSQL (pgserver), which has no pg_trgm."""
    assert search_articles("pasword", user=None, use_trigram=False).hits == []
    result = search_articles("invo", user=None, use_trigram=False)
    assert result.match == MatchKind.PREFIX
    assert [hit.article.title for hit in result.hits] == ["Invoices and VAT numbers"]


def test_snippets_escape_article_text(personas: Personas) -> None:
    make_article(
        "Angle brackets", "Type `<script>alert(1)</script>`, 3 < 4 & press **Enter** to search"
    )
    hit = search_articles("press enter", user=None).hits[0]
    assert "<script" not in hit.snippet_html
    assert "3 &lt; 4 &amp;" in hit.snippet_html
    assert "<mark>press</mark>" in hit.snippet_html


def test_empty_or_symbol_only_queries_find_nothing(articles) -> None:
    for query in ["", "   ", "!!! & | :*", "'"]:
        assert search_articles(query, user=None).hits == []
    assert search_articles("x" * 5000, user=None).query == "x" * 200


def test_a_sentence_finds_articles_with_some_of_its_words(articles) -> None:
    result = search_articles("password mail never arrives", user=None)
    assert result.match == MatchKind.ANY_WORD
    assert result.hits[0].article.title == "How to reset your password"


def test_common_words_rank_title_matches_first_beyond_the_candidate_cap(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb import search

    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    for n in range(6):
        make_article(f"Body mention {n}", "Check the printer cable.")
    make_article("Printer setup", "Plug it in.")
    result = search_articles("printer", user=None, limit=4)
    assert result.hits[0].article.title == "Printer setup"
    assert len(result.hits) == 4
