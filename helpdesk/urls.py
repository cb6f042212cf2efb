from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import SignInView
from helpdesk.health import healthz
from helpdesk.theme import set_theme
from portal.views import choose_language

# A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (helpdesk/errors.py), not a bare 400.
handler400 = "helpdesk.errors.bad_request"


def _favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed name comes from collectstatic's manifest.
    return redirect(static("tandem/favicon.svg"), permanent=True)


urlpatterns = [
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, JSON, files).
    path("favicon.ico", _favicon),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("accounts.urls")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("theme/", set_theme, name="theme"),
    # The language switcher (django.views.i18n.set_language, and a customer's profile).
    path("i18n/setlang/", choose_language, name="set_language"),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its start-up script comes from its own URL, not inline: our CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("kb.urls")),
    path("", include("feedback.urls")),
    path("portal/", include("portal.urls")),
    path("", include("portal.settings_urls")),
    path("", include("metrics.urls")),
    path("", include("service.urls")),
    path("", include("audit.urls")),
    path("", include("console.urls")),
    path("", include("privacy.urls")),
    path("", include("assist.urls")),
    path("", include("webhooks.urls")),
    path("", include("widget.urls")),
    path("", include("tickets.urls")),
]
