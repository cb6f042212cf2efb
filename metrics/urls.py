from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("survey/<str:token>/", views.survey, name="survey"),
]
