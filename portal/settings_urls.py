from django.urls import path

from portal import settings_views

app_name = "portal_settings"

urlpatterns = [
    path("settings/request-forms/", settings_views.form_list, name="forms"),
    path("settings/request-forms/new/", settings_views.form_edit, name="form-new"),
    path("settings/request-forms/<int:pk>/", settings_views.form_edit, name="form-edit"),
    path("settings/request-forms/<int:pk>/active/", settings_views.form_active, name="form-active"),
]
