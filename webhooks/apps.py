from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tickets import hooks
        from webhooks import outbox

        hooks.events_recorded.register(outbox.events_recorded)
        hooks.customers_created.register(outbox.customers_created)
