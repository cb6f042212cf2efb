from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from kb import agent_views, seo, views

app_name = "kb"

urlpatterns = [
    # The public help center.
    path("help/", views.home, name="home"),
    path("help/search/", views.search, name="search"),
    path("help/c/<slug:slug>/", views.category, name="category"),
    path("help/articles/<int:pk>/", views.article, name="article_by_id"),
    path("help/articles/<int:pk>-<str:slug>/", views.article, name="article"),
    path("help/articles/<int:pk>/feedback/", views.feedback, name="feedback"),
    # What search engines read.
    path("robots.txt", views.robots_txt, name="robots"),
    path(
        "sitemap.xml",
        sitemap_views.sitemap,
        {"sitemaps": seo.SITEMAPS},
        name="sitemap",
    ),
    # Agents: writing and measuring.
    path("kb/", agent_views.article_list, name="manage"),
    path("kb/new/", agent_views.article_edit, name="create"),
    path("kb/<int:pk>/edit/", agent_views.article_edit, name="edit"),
    path(
        "kb/<int:pk>/translations/<str:language>/",
        agent_views.translation_edit,
        name="article_language",
    ),
    path("kb/gaps/", agent_views.gaps, name="gaps"),
    path("kb/preview/", agent_views.preview, name="preview"),
    path("kb/reply-suggestions/", agent_views.reply_suggestions, name="reply_suggestions"),
]
