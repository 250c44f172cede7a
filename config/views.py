"""Operational views that belong to no app: liveness, readiness, metrics and the admin's login door."""

import hmac
import ipaddress
import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.templatetags.static import static
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from config.celery import app as celery_app
from config.metrics import metrics_page
from core.http import safe_next_url
from recommender.models import TrainingRun

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """Liveness for load balancers, and the load test's ceiling: no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _check_cache():
    # The cache fails soft (a Redis outage must not fail pages), so a round trip is the only proof.
    key, value = f"readyz:{get_random_string(12)}", get_random_string(12)
    cache.set(key, value, 10)
    found = cache.get(key)
    cache.delete(key)
    if found != value:
        raise RuntimeError("cache did not return what was written")
    return {}


def _check_broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"mode": "eager"}  # tasks run in-process: there is no broker to lose
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {}


def _check_recommender():
    run = (
        TrainingRun.objects.filter(is_active=True)
        .only("pk", "finished_at", "activated_at", "started_at")
        .first()
    )
    if run is None:
        raise RuntimeError("no active training run")
    trained = run.finished_at or run.activated_at or run.started_at
    age_hours = (timezone.now() - trained).total_seconds() / 3600
    limit = settings.READINESS_MAX_RUN_AGE_HOURS
    if age_hours > limit:
        raise RuntimeError(f"active run #{run.pk} is {age_hours:.0f} h old (limit {limit} h)")
    return {"run": run.pk, "age_hours": round(age_hours, 1)}


READINESS_CHECKS = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
    "recommender": _check_recommender,
}


@never_cache
def readyz(request):
    """Readiness: the database, the cache, the broker and a fresh enough recommender run; 503 naming
    each part that failed. Only a part's name and a short reason are shown, never a connection string."""
    parts, ready = {}, True
    for name, check in READINESS_CHECKS.items():
        started = time.monotonic()
        try:
            details = check()
            parts[name] = {"ok": True, **details}
        except Exception as error:  # noqa: BLE001 - any failure of a dependency means "not ready"
            ready = False
            logger.warning("readiness check %s failed: %s", name, error)
            parts[name] = {
                "ok": False,
                "error": type(error).__name__ if name != "recommender" else str(error),
            }
        parts[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    failed = [name for name, part in parts.items() if not part["ok"]]
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "failed": failed, "checks": parts},
        status=200 if ready else 503,
    )


def _metrics_allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    # REMOTE_ADDR is the client's own address here (TrustedProxyMiddleware): a visitor coming through
    # nginx is not "local" because nginx is.
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
def metrics(request):
    """Prometheus metrics, for the scraper on this machine or one holding METRICS_TOKEN; 404 to others."""
    if not _metrics_allowed(request):
        return HttpResponse("Not Found", status=404, content_type="text/plain")
    return HttpResponse(metrics_page(), content_type=CONTENT_TYPE_LATEST)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; point them at the logo."""
    return redirect(static("img/logo.svg"), permanent=True)


def admin_login(request):
    """Send the admin's login to allauth's, so staff logins share its rate limits and lockout."""
    if request.user.is_authenticated and not request.user.is_staff:
        # allauth would send a signed-in member straight back to /admin/, and the admin back here.
        return render(request, "403.html", {"staff_only": True}, status=403)
    next_url = safe_next_url(request, resolve_url("admin:index"))
    return redirect(f"{resolve_url('account_login')}?{urlencode({'next': next_url})}")
