"""robots.txt and the sitemap view: what search engines may crawl and where the sitemap is."""

from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from shop.sitemaps import SITEMAPS

# Personal or transactional pages: nothing there for a search engine.
DISALLOWED = ("/admin/", "/member/", "/cart/", "/checkout/", "/orders/", "/api/", "/accounts/", "/messages/")


@require_GET
def robots_txt(request):
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), ""]
    lines.append(f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_GET
def sitemap(request):
    return sitemap_view(request, sitemaps=SITEMAPS)
