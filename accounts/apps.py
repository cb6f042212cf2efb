from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """How staff sign in: two-factor (TOTP and recovery codes) and single sign-on."""

    name = "accounts"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from accounts import gate

        gate.connect()
