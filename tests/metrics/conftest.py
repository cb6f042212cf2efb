import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Personas hash five passwords per test; PBKDF2's real cost is not what is tested here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
