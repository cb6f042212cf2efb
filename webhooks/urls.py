from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("settings/webhooks/", views.endpoint_list, name="list"),
    path("settings/webhooks/<int:pk>/", views.endpoint_edit, name="edit"),
    path("settings/webhooks/<int:pk>/rotate/", views.endpoint_rotate, name="rotate"),
    path("settings/webhooks/<int:pk>/test/", views.endpoint_test, name="test"),
    path("settings/webhooks/<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path(
        "settings/webhooks/<int:pk>/deliveries/<uuid:delivery_id>/replay/",
        views.delivery_replay,
        name="replay",
    ),
]
