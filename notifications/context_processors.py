"""The header's unread message count (站内信), counted only when a page shows it."""

import logging

from django.utils.functional import SimpleLazyObject

from notifications.selectors import unread_count

logger = logging.getLogger(__name__)


def unread_messages(request):
    def _count():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        try:
            return unread_count(user)
        except Exception:  # the header must never break a page
            logger.exception("unread message count failed")
            return 0

    return {"unread_message_count": SimpleLazyObject(_count)}
