"""Template context every storefront page needs: the top categories and the cart size."""
import logging

from django.core.cache import cache
from django.utils.functional import SimpleLazyObject

logger = logging.getLogger(__name__)

NAV_CATEGORIES_CACHE_KEY = "shop:nav-categories:v1"
NAV_CATEGORIES_TTL = 300


def nav_categories():
    """Top-level active categories as plain dicts; cached because every page shows them."""
    categories = cache.get(NAV_CATEGORIES_CACHE_KEY)
    if categories is None:
        from shop.models import Category

        categories = [
            {"name": c.name, "slug": c.slug, "url": c.get_absolute_url()}
            for c in Category.objects.filter(parent__isnull=True, is_active=True)
        ]
        cache.set(NAV_CATEGORIES_CACHE_KEY, categories, NAV_CATEGORIES_TTL)
    return categories


def nav_categories_forget():
    """Drop the cached navigation after categories change."""
    cache.delete(NAV_CATEGORIES_CACHE_KEY)


def storefront(request):
    # Lazy: pages that never render the header (API, admin) pay nothing for it.
    from shop.selectors import cart_item_count_for_request

    def _cart_count():
        try:
            return cart_item_count_for_request(request)
        except Exception:  # the header must never break a page
            logger.exception("cart count failed")
            return 0

    def _categories():
        try:
            return nav_categories()
        except Exception:
            logger.exception("navigation categories failed")
            return []

    return {"nav_categories": SimpleLazyObject(_categories),
            "cart_count": SimpleLazyObject(_cart_count)}
