import pytest
from django.core.management import call_command

from kb.models import Article, Category
from kb.search import search_articles

pytestmark = pytest.mark.django_db


def test_demo_data_includes_a_searchable_help_center() -> None:
    call_command("seed_demo", "--tickets", "5", verbosity=0)
    assert Category.objects.count() == 4
    assert Article.objects.readable_by(None).count() == 19  # one internal, one draft aside
    assert Article.objects.count() == 21
    assert search_articles("password", user=None).hits[0].article.title == "Reset your password"
