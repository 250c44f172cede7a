"""Signal receivers of the shop: entry points only; the rules live in the services they call."""

import logging

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from shop.services.sessions import session_merge_into_member
from shop.visitor import visitor_key

logger = logging.getLogger(__name__)


@receiver(user_logged_in, dispatch_uid="shop.merge_visitor_into_member")
def merge_visitor_into_member(sender, request, user, **kwargs):
    # The visitor id lives inside the session data, which login() keeps while it cycles the key.
    key = visitor_key(request) if request is not None else ""
    if not key:
        return
    try:
        session_merge_into_member(session_key=key, user=user)
    except Exception:  # logging in must not fail because a cart could not be merged
        logger.exception("could not merge visitor %s into member %s", key, user.pk)
