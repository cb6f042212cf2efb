from django.urls import path

from widget import settings_views, views

app_name = "widget"

urlpatterns = [
    path("widget/v1.js", views.script, name="script"),
    path("widget/v1/frame/", views.frame, name="frame"),
    path("widget/v1/search/", views.search, name="search"),
    path("widget/v1/open/<str:visit>/<int:article>/", views.open_article, name="open"),
    path("widget/v1/contact/", views.contact, name="contact"),
    path("widget/v1/conversation/", views.conversation, name="conversation"),
    path("widget/v1/reply/", views.reply, name="reply"),
    path("widget/v1/stream/", views.stream, name="stream"),
    path("settings/widget/", settings_views.site_list, name="settings"),
    path("settings/widget/<int:pk>/", settings_views.site_list, name="settings-site"),
    path("settings/widget/<int:pk>/rotate/", settings_views.rotate, name="rotate"),
]
