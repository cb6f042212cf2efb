import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import SignInLink
from tests.conftest import Personas
from tests.factories import make_customer
from tickets.models import Role, User

pytestmark = pytest.mark.django_db


def _ask_for_link(client: Client, email: str, captured) -> object:  # type: ignore[no-untyped-def]
    with captured(execute=True):
        return client.post(reverse("portal:sign_in"), {"method": "link", "email": email})


def _link_from(mail) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"http://[^/\s]+(/portal/sign-in/link/[^\s]+/)", mail.body)
    assert match, mail.body
    return match.group(1)


def test_link_signs_in_once(
    client: Client, personas: Personas, mailoutbox, eager_celery, django_capture_on_commit_callbacks
) -> None:
    customer = make_customer("new@customer.test", name="Noor Haddad")  # no portal user yet
    response = _ask_for_link(client, "  NEW@customer.test ", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:sign_in_sent")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new@customer.test"]
    assert "Hello Noor" in mail.body
    assert mail.alternatives and "Sign in to Help center</a>" in mail.alternatives[0][0]
    link = _link_from(mail)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not SignInLink.objects.filter(token_hash=token).exists()  # only its hash is stored
    assert client.get(link).status_code == 200  # a mail scanner's GET spends nothing
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:requests")
    customer.refresh_from_db()
    assert customer.user.role == Role.CUSTOMER
    assert not customer.user.has_usable_password()
    assert client.get(reverse("portal:requests")).status_code == 200
    client.post(reverse("portal:sign_out"))
    assert client.post(link).status_code == 410  # single use
    assert client.get(reverse("portal:requests")).status_code == 302


def test_same_answer_for_unknown_addresses_and_staff(
    client: Client, personas: Personas, mailoutbox, eager_celery, django_capture_on_commit_callbacks
) -> None:
    known = _ask_for_link(client, personas.customer.email, django_capture_on_commit_callbacks)
    unknown = _ask_for_link(client, "nobody@nowhere.test", django_capture_on_commit_callbacks)
    staff = _ask_for_link(client, personas.agent_a.email, django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == staff.status_code == 302
    assert known["Location"] == unknown["Location"] == staff["Location"]
    assert [mail.to for mail in mailoutbox] == [[personas.customer.email]]


def test_expired_links_do_not_sign_in(
    client: Client, personas: Personas, mailoutbox, eager_celery, django_capture_on_commit_callbacks
) -> None:
    _ask_for_link(client, personas.customer.email, django_capture_on_commit_callbacks)
    SignInLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    link = _link_from(mailoutbox[0])
    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410
    assert client.post("/portal/sign-in/link/made-up-token/").status_code == 410
    assert "_auth_user_id" not in client.session


def test_link_requests_are_rate_limited_per_address(
    client: Client, personas: Personas, mailoutbox, eager_celery, django_capture_on_commit_callbacks
) -> None:
    for _ in range(5):
        _ask_for_link(client, personas.customer.email, django_capture_on_commit_callbacks)
    response = _ask_for_link(client, personas.customer.email, django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert "Too many attempts. Try again in 60 minutes." in response.content.decode()
    assert len(mailoutbox) == 5
    # An unknown address is limited the same way, so the limit reveals nothing either.
    for _ in range(5):
        _ask_for_link(client, "x@nowhere.test", django_capture_on_commit_callbacks)
    assert (
        _ask_for_link(client, "x@nowhere.test", django_capture_on_commit_callbacks).status_code
        == 429
    )


def test_invalid_email_is_explained(client: Client, personas: Personas) -> None:
    response = client.post(reverse("portal:sign_in"), {"method": "link", "email": "not-an-email"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


def test_password_sign_in_after_setting_one(client: Client, personas: Personas) -> None:
    user = personas.customer.user
    client.force_login(user)
    response = client.post(
        reverse("portal:account"),
        {"new_password1": "a-long-new-secret-9", "new_password2": "a-long-new-secret-9"},
    )
    assert response.status_code == 302
    client.post(reverse("portal:sign_out"))
    response = client.post(
        reverse("portal:sign_in"),
        {"method": "password", "pw-email": user.email, "pw-password": "wrong"},
    )
    assert response.status_code == 400
    assert "do not match" in response.content.decode()
    response = client.post(
        reverse("portal:sign_in") + "?next=/portal/requests/",
        {"method": "password", "pw-email": user.email, "pw-password": "a-long-new-secret-9"},
    )
    assert response.status_code == 302
    assert client.get(reverse("portal:requests")).status_code == 200


def test_agents_cannot_sign_in_through_the_portal(client: Client, personas: Personas) -> None:
    response = client.post(
        reverse("portal:sign_in"),
        {"method": "password", "pw-email": personas.agent_a.email, "pw-password": "pass-word-123"},
    )
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_password_attempts_are_rate_limited(client: Client, personas: Personas) -> None:
    data = {"method": "password", "pw-email": personas.customer.email, "pw-password": "nope"}
    for _ in range(9):
        assert client.post(reverse("portal:sign_in"), data).status_code == 400
    # The tenth failure locks this address and client address out, and says so.
    assert client.post(reverse("portal:sign_in"), data).status_code == 429


def test_sign_in_returns_to_the_page_asked_for(
    client: Client, personas: Personas, mailoutbox, eager_celery, django_capture_on_commit_callbacks
) -> None:
    response = client.get("/portal/requests/42/")
    assert response.status_code == 302
    client.get(response["Location"])
    _ask_for_link(client, personas.customer.email, django_capture_on_commit_callbacks)
    response = client.post(_link_from(mailoutbox[0]))
    assert response["Location"] == "/portal/requests/42/"
    assert User.objects.filter(role=Role.CUSTOMER).count() == 2


def test_old_links_are_deleted(personas: Personas) -> None:
    from portal.tasks import delete_old_sign_in_links

    now = timezone.now()
    for hours in (-30, -2, 1):
        SignInLink.objects.create(
            customer=personas.customer,
            token_hash=f"hash{hours}",
            expires_at=now + timedelta(hours=hours),
        )
    delete_old_sign_in_links()
    assert sorted(SignInLink.objects.values_list("token_hash", flat=True)) == ["hash-2", "hash1"]
