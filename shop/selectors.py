"""Read-only queries for the storefront: catalogue listings, product pages, carts and orders."""
from django.db.models import Sum

from shop.models import Cart, CartItem
from shop.visitor import visitor_key


def cart_for_request(request):
    """The cart of the logged-in member or of the anonymous visitor, or None (never creates one)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    key = visitor_key(request)
    if not key:
        return None
    return Cart.objects.filter(session_key=key, user__isnull=True).first()


def cart_item_count_for_request(request):
    """Units in the visitor's cart: one query, none for a visitor who has never added anything."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        items = CartItem.objects.filter(cart__user=user)
    else:
        key = visitor_key(request)
        if not key:
            return 0
        items = CartItem.objects.filter(cart__session_key=key, cart__user__isnull=True)
    return items.aggregate(n=Sum("quantity"))["n"] or 0
