"""Recommendation blocks for a page: selectors plus one impression insert, never breaking the page."""
import logging

from recommender import selectors
from recommender.services.tracking import recommendation_impressions_record
from shop.visitor import visitor_key

logger = logging.getLogger(__name__)


def _blocks(request, build):
    """[(title, items), ...] from `build()`, with impressions recorded; [] if anything fails."""
    try:
        blocks = [(selectors.block_title(block), items) for block, items in build() if items]
    except Exception:  # recommendations are a bonus: the page renders without them
        logger.exception("recommendation blocks failed for %s", request.path)
        return []
    try:
        recommendation_impressions_record(user=request.user, session_key=visitor_key(request),
                                          blocks=[items for _title, items in blocks])
    except Exception:
        logger.warning("recommendation impressions not recorded", exc_info=True)
    return blocks


def recommendation_blocks_for_home(request, *, n=12):
    return _blocks(request, lambda: [(selectors.HOME, selectors.recommendations_for_home(
        user=request.user, session_key=visitor_key(request), n=n))])


def recommendation_blocks_for_product(request, product):
    return _blocks(request, lambda: [
        (block, items) for block, items in selectors.recommendations_for_product_page(
            product=product, user=request.user).items()])


def recommendation_blocks_for_cart(request, cart, *, n=6):
    return _blocks(request, lambda: [(selectors.CART, selectors.recommendations_for_cart(cart=cart, n=n))])


def recommendation_blocks_for_order(request, order, *, n=6):
    return _blocks(request, lambda: [(selectors.AFTER_ORDER, selectors.recommendations_after_order(
        order=order, n=n))])


def recommendation_blocks_for_member_centre(request, *, n=8):
    return _blocks(request, lambda: [(selectors.MEMBER_CENTRE, selectors.recommendations_for_member_centre(
        user=request.user, n=n))])
