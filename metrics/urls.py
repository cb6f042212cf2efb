from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("survey/<str:token>/", views.survey, name="survey"),
    path("dashboards/", views.dashboard_index, name="dashboard"),
    path("dashboards/support/", views.dashboard, {"which": "support"}, name="support"),
    path("dashboards/service/", views.dashboard, {"which": "service"}, name="service"),
    path("dashboards/tickets/", views.drill_down, name="drill"),
]
