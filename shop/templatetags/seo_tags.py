"""SEO helpers for templates: the canonical URL and JSON-LD (Product, BreadcrumbList) escaped for <script>."""

import json

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()

# As django.utils.html.json_script: "</script>" or "<!--" inside a product name cannot end the element.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _jsonld(data) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


@register.simple_tag(takes_context=True)
def absolute_url(context, path=None):
    """`path` (default: this page's path, without its query) as an absolute URL on this host."""
    request = context.get("request")
    if request is None:
        return settings.SHOP_SITE_URL.rstrip("/") + (path or "/")
    return request.build_absolute_uri(path or request.path)


@register.simple_tag(takes_context=True)
def canonical_url(context):
    """This page without tracking or filter parameters; a listing keeps its page number."""
    request = context.get("request")
    url = absolute_url(context)
    page = request.GET.get("page") if request is not None else None
    if page and page.isdigit() and page != "1":
        url += f"?page={page}"
    return url


def _crumbs(context, category, product=None):
    trail = [(_("首页"), reverse("shop:home"))]
    if category is not None:
        if category.parent_id:
            trail.append((category.parent.name, category.parent.get_absolute_url()))
        trail.append((category.name, category.get_absolute_url()))
    if product is not None:
        trail.append((product.name, product.get_absolute_url()))
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": str(name), "item": absolute_url(context, url)}
            for n, (name, url) in enumerate(trail, start=1)
        ],
    }


@register.simple_tag(takes_context=True)
def breadcrumb_jsonld(context, category, product=None):
    return _jsonld(_crumbs(context, category, product))


@register.simple_tag(takes_context=True)
def product_jsonld(context, product, images=()):
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "sku": product.sku,
        "url": absolute_url(context, product.get_absolute_url()),
        "offers": {
            "@type": "Offer",
            "price": f"{product.price:.2f}",
            "priceCurrency": "CNY",
            "availability": "https://schema.org/InStock"
            if product.stock > 0
            else "https://schema.org/OutOfStock",
            "url": absolute_url(context, product.get_absolute_url()),
        },
    }
    if product.description:
        data["description"] = product.description[:500]
    if product.brand_id:
        data["brand"] = {"@type": "Brand", "name": product.brand.name}
    if images:
        data["image"] = [absolute_url(context, image.image.url) for image in images]
    if product.rating_count:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": f"{product.rating_avg:.2f}",
            "reviewCount": product.rating_count,
            "bestRating": 5,
            "worstRating": 1,
        }
    return _jsonld(data)
