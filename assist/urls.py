from django.urls import path

from assist import views

app_name = "assist"

urlpatterns = [
    path("tickets/<int:number>/assist/", views.panel, name="panel"),
    path(
        "tickets/<int:number>/assist/apply/<int:pk>/",
        views.apply_suggestion,
        name="apply",
    ),
    path("tickets/<int:number>/assist/use/", views.record_use, name="use"),
    path("tickets/<int:number>/assist/draft/", views.draft, name="draft"),
    path("settings/assist/", views.settings_page, name="settings"),
]
