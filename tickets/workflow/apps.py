from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    """Automation rules, SLA, assignment, canned replies and macros, collaboration."""

    name = "tickets.workflow"
    label = "workflow"
    verbose_name = "Workflow"

    def ready(self) -> None:
        from tickets import hooks
        from tickets.workflow import after_change, collab

        hooks.ticket_changed.register(after_change.ticket_changed)
        hooks.tickets_changed.register(after_change.tickets_changed)
        hooks.note_added.register(collab.notify_mentions)
