from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk.health import healthz
from helpdesk.signin import SignInView

# A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (helpdesk/errors.py), not a bare 400.
handler400 = "helpdesk.errors.bad_request"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("kb.urls")),
    path("portal/", include("portal.urls")),
    path("", include("metrics.urls")),
    path("", include("tickets.urls")),
]
