"""Middleware of our own: the client's address, request ids, the shop's language and missing headers."""

import logging
import time
import uuid

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation

from config.observability import REQUEST_ID_PATTERN, request_id_var
from core.http import client_ip

request_logger = logging.getLogger("shop.request")


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header (Django 5.2 has no built-in CSP)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        # Swagger UI and the admin's own inline bits would be blocked; they keep Django's defaults.
        if self.policy and not request.path.startswith("/api/docs"):
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class ShopLocaleMiddleware(LocaleMiddleware):
    """Pages speak zh-Hans until the shopper picks a language with the switcher (its cookie).

    The browser's Accept-Language is not followed on pages, so every visitor first sees the shop
    in its own language; API clients set the header on purpose, so the API follows it.
    """

    def process_request(self, request):
        if request.path.startswith("/api/"):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = (
                translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
            )
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class TrustedProxyMiddleware:
    """Behind a trusted proxy (settings.TRUSTED_PROXIES), REMOTE_ADDR becomes the client's address.

    Every limit counted per address (allauth's logins, DRF's throttles, coupon-code guessing) then sees
    the client, not the proxy, and from any other peer X-Forwarded-For is ignored (core.http.client_ip).
    The proxy's own address stays in META["PROXY_ADDR"].
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        remote = request.META.get("REMOTE_ADDR", "")
        client = client_ip(request)
        if client != remote:
            request.META["PROXY_ADDR"] = remote
            request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


class RequestIdMiddleware:
    """Gives each request an id (the proxy's X-Request-ID when sane), logs it and returns it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request.id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.id
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "request_id": request.id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "client": request.META.get("REMOTE_ADDR", ""),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class RejectNulBytesMiddleware:
    """A NUL byte in the path or a form field is a 400 with a reason, before any view; in a link's query
    it is dropped.

    Databases refuse NUL in text (PostgreSQL raises), so without this an order number or coupon code
    with %00 in it reached a query and became a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path:
            return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return any(
                "\x00" in key or any("\x00" in v for v in values) for key, values in request.POST.lists()
            )
        return False

    @staticmethod
    def _strip_query(request) -> None:
        # A NUL in a link's query (a search box, a filter) is dropped, as a search already did.
        if "%00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            cleaned = request.GET.copy()
            for key in list(cleaned):
                values = [v.replace("\x00", "") for v in cleaned.getlist(key)]
                del cleaned[key]
                cleaned.setlist(key.replace("\x00", ""), values)
            cleaned._mutable = False
            request.GET = cleaned

    def __call__(self, request):
        self._strip_query(request)
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse
                from django.utils.translation import gettext as _

                return JsonResponse(
                    {"code": "invalid_characters", "message": _("请求中含有无效字符。"), "fields": {}},
                    status=400,
                    json_dumps_params={"ensure_ascii": False},
                )
            return HttpResponseBadRequest(render_to_string("400.html", {"reason": "nul"}, request=request))
        return self.get_response(request)
