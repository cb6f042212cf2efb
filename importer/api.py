"""POST /api/v1/import/: history import over HTTP, the same code as `manage.py
import_tickets`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, throttling
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api import JSONLinesParser, JSONLParser
from importer import lines as importer
from tickets.permissions import IsAdmin


class ImportLineErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.CharField()


class ImportSummarySerializer(serializers.Serializer):
    read = serializers.IntegerField()
    imported = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = ImportLineErrorSerializer(many=True)  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class


class ImportThrottle(throttling.UserRateThrottle):
    scope = "import"


class ImportView(APIView):
    """History import over HTTP: the same code as `manage.py import_tickets`."""

    permission_classes = [permissions.IsAuthenticated, IsAdmin]
    parser_classes = [JSONLinesParser, JSONLParser]
    throttle_classes = [ImportThrottle]

    @extend_schema(
        summary="Import ticket history (JSON Lines, specs/import-format.md); admins only",
        description=(
            "A `ticket` record may carry `fields`, the custom field values by key as the "
            'ticket API shows them (`{"plan": "pro", "seats": 12, "areas": ["api"]}`): a '
            "key no active ticket field has, or a value the field cannot hold, rejects the "
            "line. History is replayed as it happened: a field required to solve does not "
            "hold back an imported solve."
        ),
        request={"application/x-ndjson": bytes, "application/jsonl": bytes},
        responses={200: ImportSummarySerializer},
    )
    def post(self, request: Request) -> Response:
        body: bytes = request.data if isinstance(request.data, bytes) else b""
        result = importer.import_lines(body.splitlines())
        return Response(ImportSummarySerializer(result.as_dict()).data)
