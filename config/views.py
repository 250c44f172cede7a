"""Operational views that belong to no app: a liveness probe and the admin's login door."""
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from core.http import safe_next_url


@never_cache
def healthz(request):
    """Liveness for load balancers, and the load test's ceiling: no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; point them at the logo."""
    return redirect(static("img/logo.svg"), permanent=True)


def admin_login(request):
    """Send the admin's login to allauth's, so staff logins share its rate limits and lockout."""
    next_url = safe_next_url(request, resolve_url("admin:index"))
    return redirect(f"{resolve_url('account_login')}?{urlencode({'next': next_url})}")
