from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/sent/", views.sign_in_sent, name="sign_in_sent"),
    path("sign-in/link/<str:token>/", views.redeem, name="redeem"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("account/", views.account, name="account"),
    path("requests/", views.requests, name="requests"),
    path("requests/new/", views.new_request, name="new_request"),
    path("requests/new/<int:form_id>/", views.new_request, name="new_request_form"),
    path("requests/new/suggestions/", views.suggestions, name="suggestions"),
    path(
        "requests/new/suggested/<str:visit>/<int:article>/",
        views.open_suggestion,
        name="open_suggestion",
    ),
    path("requests/<int:number>/", views.request_detail, name="request"),
    path("requests/<int:number>/reply/", views.reply, name="reply"),
    path("requests/<int:number>/solve/", views.solve, name="solve"),
    path(
        "requests/<int:number>/attachments/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
