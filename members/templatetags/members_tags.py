"""Template tags for membership bits inside storefront pages (favourite buttons)."""

from django import template

from members.selectors import favourite_product_ids

register = template.Library()


@register.simple_tag(takes_context=True)
def is_favourite(context, product):
    """Whether the visitor saved `product`: the annotated flag, else one query per request (cached on it)."""
    request = context.get("request")
    user = context.get("user")
    if request is None or user is None or not user.is_authenticated:
        return False
    saved = getattr(product, "saved_by_visitor", None)  # annotated by shop.selectors.with_favourite_flag
    if saved is not None:
        return saved
    ids = getattr(request, "_favourite_product_ids", None)
    if ids is None:
        ids = request._favourite_product_ids = favourite_product_ids(user)
    return product.pk in ids
