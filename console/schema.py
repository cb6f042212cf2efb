"""The settings area's API tokens in the OpenAPI schema: their own security scheme (the
same header as DRF's tokens, `Authorization: Token tdm_...`), so the two token classes
do not claim one component name."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class ScopedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "console.tokens.ApiTokenAuthentication"
    name = "scopedTokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106  (the header keyword, not a secret)
        )
