from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/two-factor/", views.verify, name="verify"),
    path("me/two-factor/", views.two_factor_page, name="two-factor"),
    path("settings/two-factor/", views.policy, name="policy"),
]
