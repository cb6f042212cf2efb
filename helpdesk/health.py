"""GET /healthz: is the database reachable, is the broker reachable.

The HTTP status answers a load balancer: 503 only when the database is unreachable, for
then no page can be served. A broker (Redis) that is down leaves the pages working
(helpdesk/cache.py, helpdesk/celery.py), so the answer is 200 with "status": "degraded",
for monitoring to alert on; taking every web host out of rotation for it would turn a
degraded help desk into a down one (docs/operations.md).
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _broker_ok() -> str:
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2).ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks},
        status=200 if checks["database"] == "ok" else 503,
    )
