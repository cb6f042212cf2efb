from django.apps import AppConfig


class AssistConfig(AppConfig):
    name = "assist"
    verbose_name = "Assist (learned routing, similar tickets, drafts)"

    def ready(self) -> None:
        from assist import receivers

        receivers.register()
