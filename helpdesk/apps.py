from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Tandem"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from helpdesk import checks  # noqa: F401  (registers the deployment checks)
        from helpdesk.users import user_saved

        # The signed-in user's cached row (helpdesk/users.py) goes when the row changes.
        for signal in (post_save, post_delete):
            signal.connect(user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="user-cache")
