"""Signal receivers of the shop: entry points only; the rules live in the services they call."""

import logging

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from shop import signals
from shop.cache_keys import catalogue_changed
from shop.models import Brand, Category, Product, ProductImage, Review
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


# --- What the storefront shows changed: retire cached pages and fragments (shop.cache_keys) ----------
# Saves and deletes from the admin and the services (price, stock, images, category and brand names,
# reviews), and the orders that move stock and sales counts through update(), which sends no signal.


def _catalogue_changed(sender, **kwargs):
    catalogue_changed()


for _model in (Product, ProductImage, Category, Brand, Review):
    post_save.connect(_catalogue_changed, sender=_model, dispatch_uid=f"shop.pages.saved.{_model.__name__}")
    post_delete.connect(
        _catalogue_changed, sender=_model, dispatch_uid=f"shop.pages.deleted.{_model.__name__}"
    )

for _name in (
    "order_placed",  # stock taken
    "order_paid",  # sales counts
    "order_cancelled",  # stock returned
    "order_refunded",
    "order_line_refunded",  # stock returned by an after-sale
    "review_approved",  # ratings
    "review_rejected",
):
    getattr(signals, _name).connect(_catalogue_changed, dispatch_uid=f"shop.pages.{_name}")
