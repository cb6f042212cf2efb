"""The privacy endpoints of specs/api.md ("Privacy"): admins only, 403 for other callers.

GET /api/v1/customers/{id}/export/ answers the zip; POST /api/v1/customers/{id}/erase/
removes the person and answers what was erased.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, renderers
from rest_framework.decorators import api_view, permission_classes, renderer_classes
from rest_framework.request import Request
from rest_framework.response import Response

from privacy.erase import erase_customer
from privacy.export import export_customer
from tickets.models import Customer
from tickets.permissions import IsAdmin


class ZipRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/zip`; the view answers the file itself."""

    media_type = "application/zip"
    format = "zip"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> Any:
        return data


def _customer(pk: int) -> Customer:
    customer = Customer.objects.select_related("organization", "user").filter(pk=pk).first()
    if customer is None:
        raise exceptions.NotFound("No such customer.")
    return customer


def zip_response(customer: Customer, *, actor: Any) -> FileResponse:
    """The customer's export as a download, spooled to a temporary file (attachments can
    be large), the export recorded."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    export_customer(customer, spool, actor=actor)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"customer-{customer.pk}.zip",
        content_type="application/zip",
    )


@extend_schema(
    summary="Everything about a customer, as a zip (admins)",
    responses={(200, "application/zip"): OpenApiTypes.BINARY},
)
@api_view(["GET"])
@renderer_classes([renderers.JSONRenderer, ZipRenderer])
@permission_classes([permissions.IsAuthenticated, IsAdmin])
def customer_export(request: Request, pk: int) -> FileResponse:
    return zip_response(_customer(pk), actor=request.user)


@extend_schema(
    summary="Erase a customer (admins): the person goes, their tickets and figures stay",
    request=None,
    responses={200: OpenApiTypes.OBJECT},
)
@api_view(["POST"])
@permission_classes([permissions.IsAuthenticated, IsAdmin])
def customer_erase(request: Request, pk: int) -> Response:
    customer = _customer(pk)
    erased = erase_customer(customer, actor=request.user)
    return Response({"id": customer.pk, "erased": True, **erased.as_dict()})
