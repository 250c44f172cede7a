"""Template context every storefront page needs: the top categories and the cart size."""

import logging

from django.utils.functional import SimpleLazyObject

from shop.selectors import cart_item_count_for_request, nav_categories

logger = logging.getLogger(__name__)


def storefront(request):
    # Lazy: pages that never render the header (API, admin) pay nothing for it.
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

    return {"nav_categories": SimpleLazyObject(_categories), "cart_count": SimpleLazyObject(_cart_count)}
