"""When a member's list is worth refreshing after their events: a few views, or a cart add, favourite or
purchase, at most once per few seconds (tasks.refresh_schedule queues the refresh when this says so)."""

import logging

from django.core.cache import cache
from django.utils import timezone

from recommender.services.realtime import SEED_KINDS, pending_key
from shop.models import Event

logger = logging.getLogger(__name__)

VIEWS_BEFORE_REFRESH = 3
DEBOUNCE_SECONDS = 3


def refresh_due(*, user_id, kind) -> bool:
    """True when this event should queue a refresh now (and marks one pending: the debounce).

    Never raises: with the cache down nothing is queued, the event is still in the database and
    the nightly run learns from it.
    """
    if not user_id or kind not in SEED_KINDS:
        return False
    try:
        if kind == Event.Kind.VIEW:
            views_key = f"recommender:views:{user_id}"
            cache.add(views_key, 0, timeout=3600)
            if cache.incr(views_key) < VIEWS_BEFORE_REFRESH:
                return False
            cache.set(views_key, 0, timeout=3600)
        return bool(cache.add(pending_key(user_id), timezone.now().timestamp(), timeout=DEBOUNCE_SECONDS))
    except Exception:
        logger.warning("recommendation refresh not scheduled for member %s (cache down)", user_id)
        return False
