from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Settings"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from console import branding, schema  # noqa: F401  (schema: the tokens' OpenAPI scheme)
        from console.models import Branding
        from helpdesk import branding as product

        # The look held per process (console/branding.py) reloads after any change.
        for signal in (post_save, post_delete):
            signal.connect(branding.changed, sender=Branding, dispatch_uid="branding")
        # Outgoing mail (a lower layer) names the product through helpdesk.branding.
        product.register(branding.product_name)
