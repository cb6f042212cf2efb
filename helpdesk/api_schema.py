"""The OpenAPI schema of every API view: its answers, errors included (specs/api.md).

Every error leaves through `helpdesk.api.exception_handler` in one shape, so the schema
names it once (the `Error` component) and each operation lists the error codes it can
answer, from what the view is: a bad token is a 401 everywhere, a path with a number
can be a 404, input (a body, a filter, a cursor) can be a 400, a body can be too large
(413) or of a type not taken (415), a role can be refused (403), and every view is
throttled (429). A view names a code of its own (409) with `extend_schema(responses=...)`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    detail = serializers.CharField(help_text="What went wrong, in plain words.")
    errors = serializers.DictField(  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class
        child=serializers.JSONField(),
        help_text="Invalid input: the field (or `non_field_errors`) and its messages; "
        "for a field of named parts (`fields`, the custom fields) an object of each "
        "part and its messages (`errors.fields.<key>`); otherwise empty.",
    )


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field at fault.",
    "401": "No credentials, or a token that is not valid.",
    "403": "The caller's role may not do this.",
    "404": "Not found, or not visible to the caller.",
    "409": "The ticket's state does not allow this change.",
    "413": "The request body is too large.",
    "415": "The request body is of a type this operation does not take.",
    "429": "Too many requests; retry after the time in Retry-After.",
}


class DocumentedErrorsSchema(AutoSchema):
    """drf-spectacular's schema of a view, with the error answers it can give."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = {
                    **self._get_response_for_code(ErrorSerializer, code),
                    "description": ERROR_DESCRIPTIONS[code],
                }
        for code, response in responses.items():
            if code in ERROR_DESCRIPTIONS and not response.get("description"):
                response["description"] = ERROR_DESCRIPTIONS[code]  # one named by the view
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        view = self.view
        query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        unsafe = self.method in UNSAFE
        public = all(isinstance(p, permissions.AllowAny) for p in view.get_permissions())
        codes = ["401"]
        if unsafe or query:
            codes.append("400")
        if not public or unsafe:  # unsafe: also a session without its CSRF token
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if unsafe and "requestBody" in operation:
            codes += ["413", "415"]
        if view.get_throttles():
            codes.append("429")
        return codes
