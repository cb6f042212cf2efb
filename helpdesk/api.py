"""API plumbing shared by every app: the error shape of specs/api.md."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every API error as {"detail": ..., "errors": {field: [messages]}}."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        errors = {
            key: value if isinstance(value, list) else [value] for key, value in errors.items()
        }
        response.data = {"detail": "Invalid input.", "errors": errors}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {"detail": str(data["detail"]), "errors": {}}
    else:
        response.data = {"detail": str(data), "errors": {}}
    return response


def error_response(
    detail: str, code: int = status.HTTP_400_BAD_REQUEST, **errors: list[str]
) -> Response:
    return Response({"detail": detail, "errors": errors}, status=code)
