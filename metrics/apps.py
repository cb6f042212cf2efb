from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self) -> None:
        # Figures follow calendar changes (signal receivers).
        from metrics import calendars  # noqa: F401
