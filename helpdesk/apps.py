from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Tandem"

    def ready(self) -> None:
        from helpdesk import checks  # noqa: F401  (registers the deployment checks)
