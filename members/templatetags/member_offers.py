"""Template tags for promotions and coupons on storefront pages (product, cart, checkout)."""

from django import template

from members.models import StackingRules
from members.services import benefits, checkout_hooks, promotions

register = template.Library()


def _as_lines(lines):
    """Checkout tuples, cart items or the cart page's (item, form) pairs as (product, qty, total)."""
    result = []
    for line in lines:
        if isinstance(line, tuple) and len(line) == 3:
            result.append(line)
            continue
        item = line[0] if isinstance(line, tuple) else line
        result.append((item.product, item.quantity, item.line_total))
    return result


@register.simple_tag
def product_promotions(product):
    """The promotions a product page shows: 满300减30 …"""
    return promotions.promotions_for_product(product=product)


@register.simple_tag
def cart_promotion_hints(lines):
    """Each active promotion on the cart, with "再买 ¥25 可减 30"."""
    return promotions.promotion_hints(lines=_as_lines(lines))


@register.simple_tag(takes_context=True)
def checkout_offers(context, summary, coupon_code="", points=0):
    """What the checkout page's offers panel shows: the coupons held (best first, unusable with the
    reason), the promotion and coupon this order gets, and the stacking rule in words."""
    user = context.get("user")
    lines = _as_lines(summary.lines)
    quote = checkout_hooks.checkout_discounts_quote(
        user=user,
        lines=lines,
        subtotal=summary.subtotal,
        coupon_code=coupon_code or "",
        points=points or 0,
        record_failures=False,
    )
    return {
        "options": checkout_hooks.checkout_coupon_options(user=user, lines=lines),
        "quote": quote,
        "no_coupon": checkout_hooks.NO_COUPON,
        "stacking": StackingRules.current().explanation,
        "hints": [h for h in promotions.promotion_hints(lines=lines) if h.short > 0][:2],
    }


@register.simple_tag
def member_prices(product):
    """[(tier, price)]: the 会员价 each tier pays for `product`."""
    return benefits.member_prices_shown(product=product)
