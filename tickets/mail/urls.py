from django.urls import path

from tickets.mail import views

urlpatterns = [
    path("mail/inbound/<int:mailbox_id>/", views.inbound_webhook, name="mail-webhook"),
    path("mail/quarantine/", views.quarantine, name="quarantine"),
    path("me/notifications/", views.notification_settings, name="notification-settings"),
    path("me/signature/", views.signature_settings, name="signature-settings"),
    path("tickets/<int:number>/reply/preview/", views.reply_preview, name="reply-preview"),
    path(
        "tickets/<int:number>/messages/<int:message_id>/retry/",
        views.retry_delivery,
        name="retry_delivery",
    ),
]
