"""The API test client of tests/tickets/test_api*.py, and the spec's error shape."""

from __future__ import annotations

from rest_framework.test import APIClient

from tickets.models import User


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_error_shape(response, code: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == code, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    return body
