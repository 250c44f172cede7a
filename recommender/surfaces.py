"""Recommendation blocks for a page: selectors, rendered HTML and one impression insert per page.

The home block is cached per member (keyed by the active run, the member's refresh version,
their personalisation switch and the language) because rendering a dozen cards costs about as
much as the rest of the page; a near-real-time refresh bumps the version so it shows at once.
Nothing here may break a page: on any error the page renders without recommendations.
"""

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from core.pagework import pagework_note
from recommender import selectors
from recommender.services.tracking import impressions_record
from recommender.serving import guest_version, member_version, serving_state
from shop.visitor import visitor_key

logger = logging.getLogger(__name__)

HOME_CACHE_SECONDS = 120


@dataclass
class RenderedBlock:
    """A block ready for the page, plus what its impression event records."""

    block: str
    title: str
    html: str
    models: list
    products: list
    arm: str = ""


# Cached block HTML must not carry one request's CSRF token (a later login rotates it): the forms get
# this placeholder, swapped for the serving request's token on the way out.
CSRF_PLACEHOLDER = "__recommender_csrf__"


def _render(request, block, items) -> RenderedBlock:
    title = selectors.block_title(block)
    html = render_to_string(
        "recommender/_block.html",
        {"title": title, "items": items, "csrf_value": CSRF_PLACEHOLDER},
        request=request,
    )
    return RenderedBlock(
        block,
        title,
        html,
        [i.model for i in items],
        [i.product.pk for i in items],
        items[0].arm if items else "",
    )


def _with_token(request, blocks):
    """Blocks whose forms carry this request's CSRF token."""
    if not any(CSRF_PLACEHOLDER in b.html for b in blocks):
        return blocks
    token = get_token(request)
    for b in blocks:
        b.html = mark_safe(str(b.html).replace(CSRF_PLACEHOLDER, token))
    return blocks


def _record(request, blocks):
    try:
        rows = [(b.block, b.models, b.products, b.arm) for b in blocks]
        impressions_record(user=request.user, session_key=visitor_key(request), blocks=rows)
        # A cached copy of the page records them again for each visitor it is served to.
        pagework_note("recommender.surfaces.impressions_replay", blocks=rows)
    except Exception:
        logger.warning("recommendation impressions not recorded", exc_info=True)


def impressions_replay(request, *, blocks):
    """The impressions of a cached page's blocks, for the visitor it is served to."""
    try:
        impressions_record(user=request.user, session_key=visitor_key(request), blocks=blocks)
    except Exception:
        logger.warning("recommendation impressions not recorded", exc_info=True)


def _blocks(request, build):
    """[RenderedBlock, ...] from `build()` -> [(block, items)], impressions recorded; [] on failure."""
    try:
        blocks = [_render(request, block, items) for block, items in build() if items]
    except Exception:  # recommendations are a bonus: the page renders without them
        logger.exception("recommendation blocks failed for %s", request.path)
        return []
    _record(request, blocks)
    return blocks


def _home_cache_key(request):
    user = request.user
    run_id = serving_state()["run_id"]  # cached: no query on a warm page
    if not getattr(user, "is_authenticated", False):
        # A guest session with events has its own list (the fold-in), keyed by its history version.
        session_key = visitor_key(request)
        version = guest_version(session_key)
        if version is not None:
            return f"recommender:home:guest:{run_id}:{session_key}:{version}:{get_language()}"
        return f"recommender:home:guest:{run_id}:{get_language()}"
    allowed, _segment = selectors.member_context(user)  # remembered for the block below
    version = member_version(user.pk) if allowed else "off"
    return f"recommender:home:{user.pk}:{run_id}:{version}:{get_language()}"


def recommendation_blocks_for_home(request, *, n=12):
    try:
        key = _home_cache_key(request)
        cached = cache.get(key)
    except Exception:
        logger.warning("recommendation cache unavailable", exc_info=True)
        key, cached = None, None
    if cached is not None:
        blocks = [RenderedBlock(**{**b, "html": mark_safe(b["html"])}) for b in cached]
        _record(request, blocks)
        return _with_token(request, blocks)
    blocks = _blocks(
        request,
        lambda: [
            (
                selectors.HOME,
                selectors.recommendations_for_home(user=request.user, session_key=visitor_key(request), n=n),
            )
        ],
    )
    if key is not None and blocks:
        try:
            # Stored with the CSRF placeholder: the token is this request's, not the next one's.
            cache.set(key, [vars(b) | {"html": str(b.html)} for b in blocks], HOME_CACHE_SECONDS)
        except Exception:
            logger.warning("recommendation cache unavailable", exc_info=True)
    return _with_token(request, blocks)


def recommendation_blocks_for_product(request, product):
    return _with_token(
        request,
        _blocks(
            request,
            lambda: list(
                selectors.recommendations_for_product_page(product=product, user=request.user).items()
            ),
        ),
    )


def recommendation_blocks_for_cart(request, cart, *, n=6, product_ids=None):
    """`product_ids`: the cart's products when the page has loaded them (spares a query)."""
    user = request.user if request.user.is_authenticated else None
    return _with_token(
        request,
        _blocks(
            request,
            lambda: [
                (
                    selectors.CART,
                    selectors.recommendations_for_cart(cart=cart, n=n, product_ids=product_ids, user=user),
                )
            ],
        ),
    )


def recommendation_blocks_for_order(request, order, *, n=6):
    return _with_token(
        request,
        _blocks(
            request,
            lambda: [(selectors.AFTER_ORDER, selectors.recommendations_after_order(order=order, n=n))],
        ),
    )


def recommendation_blocks_for_member_centre(request, *, n=8):
    return _with_token(
        request,
        _blocks(
            request,
            lambda: [
                (selectors.MEMBER_CENTRE, selectors.recommendations_for_member_centre(user=request.user, n=n))
            ],
        ),
    )
