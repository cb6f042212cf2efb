"""The webhook API (specs/api.md) and the admins' settings page: endpoints, the secret
shown once, private targets refused, the delivery log and replay."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from tests.conftest import Personas
from tests.tickets.api_client import assert_error_shape, client_for
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import failed_once, new_ticket
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(
    receiver: Receiver, personas: Personas
) -> None:
    api = client_for(personas.admin)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "events": ["ticket.created", "message.created"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert body["events"] == ["ticket.created", "message.created"]
    assert body["active"] is True
    listed = api.get("/api/v1/webhooks/").json()
    assert [e["url"] for e in listed] == [receiver.url]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    assert AuditEntry.objects.filter(kind=AuditKind.WEBHOOK, action="created").count() == 1
    # Bad input: a 400 naming the field.
    errors = assert_error_shape(
        api.post(
            "/api/v1/webhooks/", {"url": receiver.url, "events": ["ticket.nope"]}, format="json"
        ),
        400,
    )["errors"]
    assert set(errors) == {"events"}
    errors = assert_error_shape(
        api.post("/api/v1/webhooks/", {"url": "ftp://x", "events": []}, format="json"), 400
    )["errors"]
    assert set(errors) == {"url", "events"}
    # Admins only.
    for other in (personas.manager, personas.agent_a, personas.customer.user):
        assert client_for(other).get("/api/v1/webhooks/").status_code == 403
        denied = client_for(other).post(
            "/api/v1/webhooks/", {"url": receiver.url, "events": ["ticket.created"]}, format="json"
        )
        assert denied.status_code == 403
    assert client_for(None).get("/api/v1/webhooks/").status_code in (401, 403)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_and_loopback_targets_are_refused_without_the_setting(
    personas: Personas, settings: Any, url: str
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = client_for(personas.admin).post(
        "/api/v1/webhooks/", {"url": url, "events": ["ticket.created"]}, format="json"
    )
    errors = assert_error_shape(response, 400)["errors"]
    assert "may not reach" in errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_the_settings_page_refuses_a_private_target_with_a_form_error(
    client: Client, personas: Personas, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(personas.admin)
    response = client.post(
        reverse("webhooks:list"), {"url": "http://127.0.0.1:8000/", "events": ["ticket.created"]}
    )
    assert response.status_code == 422
    assert "a loopback address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_resolves_to_a_private_address_at_send_time_is_not_reached(
    receiver: Receiver,
    personas: Personas,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """DNS rebinding: the name was public when saved, and points inside when sent."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    real = socket.getaddrinfo
    answer = {"hooks.example.com": "93.184.215.14"}

    def resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if host in answer:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer[host], args[0]))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    port = receiver.url.split(":")[2].split("/")[0]
    with django_capture_on_commit_callbacks(execute=True):
        endpoint = WebhookEndpoint.objects.create(
            url=f"http://hooks.example.com:{port}/hook", events=["ticket.created"], secret="s"
        )
        from webhooks import subscriptions

        subscriptions.changed()
    answer["hooks.example.com"] = "127.0.0.1"  # rebound to the receiver on loopback
    new_ticket(personas, django_capture_on_commit_callbacks)

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.PENDING
    assert "127.0.0.1, a loopback address" in delivery.attempt_log.get().error


def test_the_settings_page_creates_shows_the_secret_once_tests_and_replays(
    client: Client,
    receiver: Receiver,
    personas: Personas,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(personas.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("webhooks:list"),
            {"url": receiver.url, "events": ["ticket.created"], "active": "on"},
        )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert endpoint.secret in page
    assert endpoint.secret not in client.get(response["Location"]).content.decode()
    receiver.secret = endpoint.secret

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert receiver.events == ["webhook.test"]
    assert receiver.received[0].verified

    new_ticket(personas, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event="ticket.created")
    log = client.get(reverse("webhooks:edit", args=[endpoint.pk])).content.decode()
    assert str(delivery.delivery_id) in log

    replay = reverse("webhooks:replay", args=[endpoint.pk, delivery.delivery_id])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(replay).status_code == 302
    first, again = (r for r in receiver.received if r.json["event"] == "ticket.created")
    assert first.json["id"] == again.json["id"] == str(delivery.delivery_id)
    assert first.body == again.body and again.verified
    delivery.refresh_from_db()
    assert delivery.attempts == 2

    # Rotating: a new secret, shown once, signs from then on.
    old = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert (
        endpoint.secret in client.get(reverse("webhooks:edit", args=[endpoint.pk])).content.decode()
    )

    # Admins only; other staff get a 403.
    client.force_login(personas.manager)
    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.post(replay).status_code == 403


def test_the_api_lists_attempts_and_redelivers_with_the_same_id(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, delivery = failed_once(receiver, personas, django_capture_on_commit_callbacks)
    api = client_for(personas.admin)
    url = f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.delivery_id}/redeliver/"
    assert_error_shape(api.post(url), 409)  # still pending: its retry is due

    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert response.status_code == 200
    assert response.json() == {"id": str(delivery.delivery_id), "status": "pending"}
    listed = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()["results"]
    assert [(a["event"], a["attempt"], a["status_code"]) for a in listed] == [
        ("ticket.created", 2, 200),
        ("ticket.created", 1, 500),
    ]
    assert listed[1]["error"].startswith("HTTP 500")
    assert {a["delivery_id"] for a in listed} == {str(delivery.delivery_id)}
    assert isinstance(listed[0]["duration_ms"], int)
    unknown = f"/api/v1/webhooks/{endpoint.pk}/deliveries/{uuid.uuid4()}/redeliver/"
    assert_error_shape(api.post(unknown), 404)
    assert client_for(personas.manager).post(url).status_code == 403
