"""Middleware of our own: the shop's language choice and the headers Django does not set."""
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
            language = translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
