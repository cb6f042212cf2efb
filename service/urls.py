from django.urls import path

from service import views

app_name = "service"

urlpatterns = [
    path("accounts/at-risk/", views.at_risk, name="at_risk"),
    path("accounts/mine/", views.my_accounts, name="mine"),
    path("dashboards/topics/<int:topic_id>/", views.topic, name="topic"),
]
