"""The header's unread message count (站内信): read from the cache, never counted while a page renders.

Pages stay within their query budget; when the cache does not know the count, the header's badge
fetches it from notifications:unread_count (notifications/unread.js), which counts and remembers it.
"""

import logging

from notifications.selectors import unread_count_cached

logger = logging.getLogger(__name__)


def unread_messages(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        return {"unread_message_count": unread_count_cached(user.pk)}
    except Exception:  # the header must never break a page
        logger.exception("unread message count failed")
        return {}
