"""Probes and metrics for operators: /healthz, /readyz, /metrics.

* ``/healthz`` — the process answers (liveness).  No database, no Redis.
* ``/readyz`` — the process can serve: the database answers, the channel
  layer answers (Redis with REDIS_URL), and, when SCHEDULER_REQUIRED=true, the
  scheduler's heartbeat is fresh.  503 with what failed otherwise (readiness).
* ``/metrics`` — Prometheus text format when METRICS_ENABLED=true (404 when
  off); with METRICS_TOKEN set, only with ``Authorization: Bearer <token>``.

None of them needs a session or writes anything; none names a member.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core import health, metrics
from realtime import publish

SCHEDULER_HEARTBEAT_KEY = "scheduler:heartbeat"


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


def _database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return type(exc).__name__
    return None


def _channel_layer() -> str | None:
    return publish.layer_answers()


def _scheduler() -> str | None:
    if not settings.SCHEDULER_REQUIRED:
        return None
    beat = caches["default"].get(SCHEDULER_HEARTBEAT_KEY)
    if beat is None or time.time() - float(beat) > settings.SCHEDULER_HEARTBEAT_MAX_AGE:
        return "no recent scheduler heartbeat"
    return None


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {"database": _database(), "channel_layer": _channel_layer(), "scheduler": _scheduler()}
    failing = {name: problem for name, problem in checks.items() if problem}
    body = {"ready": not failing, "failing": failing, "dependencies": health.snapshot()}
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404("metrics are off")
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return HttpResponse("unauthorized\n", status=401, content_type="text/plain")
    metrics.refresh_dependencies()
    return HttpResponse(generate_latest(metrics.REGISTRY), content_type=CONTENT_TYPE_LATEST)
