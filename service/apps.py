from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "service"

    def ready(self) -> None:
        from metrics import extensions
        from service import hooks as service_hooks
        from service import panels
        from tickets import hooks

        hooks.ticket_changed.register(service_hooks.ticket_changed)
        hooks.tickets_changed.register(service_hooks.tickets_changed)
        hooks.account_panels.register(panels.health_panel)
        extensions.service_sections.register(panels.dashboard_sections)
        extensions.recomputed.register(service_hooks.recompute_everything)
