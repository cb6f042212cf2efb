from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from tickets import directory
        from tickets.models import Mailbox, Team, User

        # The menus of agents, teams and mailboxes held per process (tickets/directory.py)
        # reload after any change to what they list. Cache upkeep, not domain logic.
        for model in (User, Team, Mailbox):
            for signal in (post_save, post_delete):
                signal.connect(directory.changed, sender=model, dispatch_uid=f"directory-{model}")
        for through in (Team.members.through, Mailbox.teams.through):
            m2m_changed.connect(directory.changed, sender=through, dispatch_uid=f"dir-{through}")
