from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "widget"
    verbose_name = "Help widget (customers' websites)"

    def ready(self) -> None:
        from widget import receivers

        receivers.register()
