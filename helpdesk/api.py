"""API plumbing shared by every app: the error shape of specs/api.md, body limits, paging.

Every error an API view can raise (validation, auth, 404, 405, 415, parse errors,
throttling, oversized bodies) leaves through `exception_handler` as
{"detail": ..., "errors": {field: [messages]}}.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body too large (at most {settings.MAX_UPLOAD_BYTES} bytes).")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every API error as {"detail": ..., "errors": {field: [messages]}}."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # Its reason, when it gives one ("Light agents write internal notes ...").
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = too_large()
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError("Too many fields in the request.")
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which are in this
    # module, when it loads, so this module must load first (a worker reaches it through
    # the serializers alone, with no view imported).
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        # A list of messages per field; a dict for a field of named parts (the custom
        # fields: errors.fields.<key>).
        errors = {
            key: value if isinstance(value, list | dict) else [value]
            for key, value in errors.items()
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


@csrf_exempt  # a POST to an unknown path is a JSON 404 too, not the CSRF failure page
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's shape, not with an HTML page."""
    return JsonResponse(
        {"detail": "Not found. API paths end with a slash, e.g. /api/v1/tickets/.", "errors": {}},
        status=404,
    )


def read_limited(stream: Any) -> bytes:
    """Read a request body, refusing more than MAX_UPLOAD_BYTES even without Content-Length."""
    limit = settings.MAX_UPLOAD_BYTES
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise too_large()
    return data


def _check_length(parser_context: dict[str, Any] | None) -> None:
    request = (parser_context or {}).get("request")
    if request is None:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("Bad Content-Length header.") from None
    if length > settings.MAX_UPLOAD_BYTES:
        raise too_large()


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser reads the raw stream, bypassing Django's body limit: enforce it.

    Python's decoder recurses once per nesting level, so a body of a few thousand "["
    is a RecursionError (a 500) unless it is caught here."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        _check_length(parser_context)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        _check_length(parser_context)
        return super().parse(stream, media_type, parser_context)


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        _check_length(parser_context)
        return super().parse(stream, media_type, parser_context)


class JSONLinesParser(parsers.BaseParser):
    """A JSON Lines body (history import), handed to the view as bytes."""

    media_type = "application/x-ndjson"

    # A parser's answer becomes request.data, whatever it is; this one is bytes.
    def parse(  # type: ignore[override]  # drf-stubs: a Mapping or DataAndFiles only
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> bytes:
        _check_length(parser_context)
        return read_limited(stream)


class JSONLParser(JSONLinesParser):
    media_type = "application/jsonl"


class BadCursorPagination(CursorPagination):
    """Cursor paging whose broken cursors are a 400 on `cursor`, not a bare 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]}) from None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        # A cursor that decodes but holds a position the ordering field cannot take
        # ("p=notadate" for a date) fails when the page is filtered by it.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, DataError):
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]}) from None

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if not 1 <= size <= self.max_page_size:
                raise exceptions.ValidationError(
                    {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
                )
            return size
        return self.page_size


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo is a clear 400 instead of a silent no-op."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if hasattr(self, "initial_data") and isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs
