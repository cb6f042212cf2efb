from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("customers/<int:pk>/export/", views.export_view, name="export"),
    path("customers/<int:pk>/erase/", views.erase_view, name="erase"),
]
