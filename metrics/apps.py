from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self) -> None:
        from metrics import calendars, surveys, timeline
        from metrics import hooks as metrics_hooks
        from tickets import hooks

        hooks.ticket_changed.register(metrics_hooks.ticket_figures_stale)
        hooks.tickets_changed.register(metrics_hooks.tickets_figures_stale)
        hooks.calendars_changed.register(calendars.calendars_changed)
        hooks.outgoing_body.register(surveys.customer_links)
        hooks.timeline_entries.register(timeline.survey_entries)
