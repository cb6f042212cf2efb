from django.apps import AppConfig


class MailConfig(AppConfig):
    """Mail in (IMAP, webhook, command) and out (SMTP), quarantine, agent notices by mail."""

    name = "tickets.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from tickets import hooks
        from tickets.mail import hooks as mail_hooks

        hooks.message_queued.register(mail_hooks.outbound_message_queued)
        hooks.ticket_assigned.register(mail_hooks.ticket_assigned)
        hooks.customer_wrote.register(mail_hooks.customer_wrote)
