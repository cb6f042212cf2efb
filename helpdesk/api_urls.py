"""Every route under /api/v1/, in one router so each app adds its endpoints here.

Apps register viewsets on `router` (e.g. `router.register("kb/articles", ...)`) or add
plain paths to `urlpatterns` above the final catch-all, which answers unknown API paths
with the JSON error shape instead of an HTML page.
"""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from helpdesk.api import not_found
from importer.api import ImportView
from kb.api import ArticleViewSet
from metrics.api import metrics_summary
from privacy.api import customer_erase, customer_export
from service.api import HealthCustomerViewSet, OrganizationViewSet, metrics_topics
from tickets.api.fields import FieldDefinitionViewSet
from tickets.api.views import TicketViewSet
from webhooks.api import WebhookViewSet

app_name = "api"

router = DefaultRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("customers", HealthCustomerViewSet, basename="customer")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("fields", FieldDefinitionViewSet, basename="field")
router.register("kb/articles", ArticleViewSet, basename="kb-article")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    path("metrics/summary/", metrics_summary, name="metrics-summary"),
    path("metrics/topics/", metrics_topics, name="metrics-topics"),
    path("customers/<int:pk>/export/", customer_export, name="customer-export"),
    path("customers/<int:pk>/erase/", customer_erase, name="customer-erase"),
    path("", include(router.urls)),
    path("import/", ImportView.as_view(), name="import"),
    # Keep last: anything not matched above is an API 404 in the API's shape (a line
    # break in the path included, which "." would not match).
    re_path(r"^", not_found),
]
