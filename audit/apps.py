from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Sign-ins, settings changes, tokens, exports and erasures, kept at least a year."""

    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit import receivers

        receivers.connect()
