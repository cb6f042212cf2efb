from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("settings/audit/", views.audit_log, name="log"),
    path("settings/audit/export.csv", views.audit_export, name="export"),
]
