"""Template tags for membership bits inside storefront pages (favourite buttons)."""
from django import template

from members.selectors import favourite_product_ids

register = template.Library()


@register.simple_tag(takes_context=True)
def is_favourite(context, product):
    """Whether the visitor saved `product`; one query per request, cached on the request."""
    request = context.get("request")
    user = context.get("user")
    if request is None or user is None or not user.is_authenticated:
        return False
    ids = getattr(request, "_favourite_product_ids", None)
    if ids is None:
        ids = request._favourite_product_ids = favourite_product_ids(user)
    return product.pk in ids
