"""What happens to an anonymous visitor's cart and events when they log in."""

from django.db import transaction

from shop.models import Cart, Event
from shop.services.cart import cart_merge


@transaction.atomic
def session_merge_into_member(*, session_key: str, user) -> None:
    """Give the member the guest cart and the anonymous events of visitor id `session_key`."""
    if not session_key or user is None or not user.is_authenticated:
        return
    guest_cart = Cart.objects.filter(session_key=session_key, user__isnull=True).first()
    if guest_cart is not None:
        member_cart = Cart.objects.filter(user=user).first()
        if member_cart is None:
            # Adopt the guest cart as it is: no copying needed.
            guest_cart.user = user
            guest_cart.session_key = None
            guest_cart.save(update_fields=["user", "session_key", "updated_at"])
        else:
            cart_merge(source=guest_cart, target=member_cart)
    Event.objects.filter(session_key=session_key, user__isnull=True).update(user=user)
