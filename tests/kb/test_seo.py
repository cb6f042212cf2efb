"""What search engines read: the sitemap, robots.txt, and each article's head tags."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from kb.models import ArticleStatus, Visibility
from kb.services import save_translation
from tests.conftest import Personas
from tests.factories import make_article

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _head(body: str) -> str:
    return body.split("</head>", 1)[0]


def test_sitemap_lists_exactly_the_published_public_articles(
    client: Client, personas: Personas, settings, django_assert_num_queries
) -> None:
    settings.SITE_URL = "https://help.example.com"
    shown = [make_article("Reset your password"), make_article("Change your plan")]
    make_article("Not yet", status=ArticleStatus.DRAFT)
    make_article("Agents only", visibility=Visibility.INTERNAL)
    make_article("Internal draft", status=ArticleStatus.DRAFT, visibility=Visibility.INTERNAL)
    german = save_translation(
        shown[0],
        "de",
        editor=personas.agent_a,
        title="Passwort",
        body_markdown="x",
        status=ArticleStatus.PUBLISHED,
    )

    german_lastmod = german.updated_at.date().isoformat()
    client.get("/sitemap.xml")  # the branding row, then held per process
    # 1 count of the published public articles (the paginator), 1 the page of them, and
    # the same two for their published translations: none per article, however many.
    with django_assert_num_queries(4):
        response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own page
    entries = {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url.findtext(
            "s:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("s:url", SITEMAP_NS)
    }
    assert entries == {
        f"https://help.example.com{a.get_absolute_url()}": a.updated_at.date().isoformat()
        for a in shown
    } | {f"https://help.example.com{shown[0].get_absolute_url()}?lang=de": german_lastmod}


def test_robots_txt_points_at_the_sitemap_and_keeps_agent_and_portal_pages_out(
    client: Client, settings
) -> None:
    settings.SITE_URL = "https://help.example.com"
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "Sitemap: https://help.example.com/sitemap.xml" in lines
    assert "Allow: /help/" in lines
    assert "Disallow: /portal/" in lines
    assert "Disallow: /" in lines  # the agent workspace at / and everything beside it


def test_article_head_has_description_canonical_opengraph_and_escaped_json_ld(
    client: Client, personas: Personas, settings
) -> None:
    settings.SITE_URL = "https://help.example.com"
    article = make_article(
        'Fix "quotes" </script><script>alert(1)</script> & more',
        body="First **line** with <b>markup</b> & an ampersand.\n\n" + "More words. " * 40,
    )
    article.published_at = timezone.now()
    article.save(update_fields=["published_at"])
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    head = _head(response.content.decode())
    canonical = f"https://help.example.com{article.get_absolute_url()}"
    assert f'<link rel="canonical" href="{canonical}">' in head
    assert f'<meta property="og:url" content="{canonical}">' in head
    assert '<meta property="og:type" content="article">' in head
    description = re.search(r'<meta name="description" content="([^"]*)">', head)
    assert description is not None
    assert description.group(1).startswith("First line with markup &amp; an ampersand.")
    assert len(description.group(1).replace("&amp;", "&")) <= 160
    assert "<b>" not in description.group(1)
    assert (
        '<meta property="og:title" content="Fix &quot;quotes&quot; &lt;/script&gt;'
        '&lt;script&gt;alert(1)&lt;/script&gt; &amp; more">' in head
    )
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', head, re.S)
    assert len(scripts) == 1
    assert "<" not in scripts[0] and "&" not in scripts[0]
    data = json.loads(scripts[0])
    assert data["@type"] == "Article"
    assert data["headline"] == article.title
    assert data["url"] == canonical
    assert data["description"].startswith("First line with markup & an ampersand.")
    assert "datePublished" in data and "dateModified" in data
    # The page has no other script an injected title could have opened.
    assert "alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize(
    ("status", "visibility"),
    [(ArticleStatus.DRAFT, Visibility.PUBLIC), (ArticleStatus.PUBLISHED, Visibility.INTERNAL)],
)
def test_drafts_and_internal_articles_carry_no_search_tags(
    client: Client, personas: Personas, status: str, visibility: str
) -> None:
    article = make_article("Hidden one", status=status, visibility=visibility)
    client.force_login(personas.agent_a)  # only agents can open these at all
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    head = _head(response.content.decode())
    assert '<meta name="robots" content="noindex">' in head
    for absent in ('name="description"', 'rel="canonical"', "og:", "application/ld+json"):
        assert absent not in head
    assert article.get_absolute_url() not in client.get("/sitemap.xml").content.decode()
