"""Template filters for the storefront: money in yuan and rating stars without inline styles."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from core.masking import public_member_name

register = template.Library()


@register.filter
def member_public_name(user):
    """How a reviewer is named to other shoppers (core.masking.public_member_name)."""
    return public_member_name(user)


@register.filter
def money(value):
    """¥1,234.50 from a Decimal (or anything Decimal accepts); empty for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    whole, _, cents = f"{abs(amount):.2f}".partition(".")
    return f"{sign}¥{intcomma(int(whole), use_l10n=False)}.{cents}"


@register.filter
def stars_class(rating):
    """CSS class stars-0 … stars-10 (half-star steps) for a 0–5 average."""
    try:
        halves = int((Decimal(rating or 0) * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    except (InvalidOperation, TypeError, ValueError):
        halves = 0
    return f"stars-{max(0, min(10, halves))}"


@register.filter
def first_image(product):
    """The product's first image from the prefetch cache (no query when images are prefetched)."""
    images = list(product.images.all())
    return images[0] if images else None


@register.filter
def percent_of(part, whole):
    """Integer percentage used for bar widths classes (0–100, steps of 5)."""
    try:
        value = int(round(100 * float(part) / float(whole) / 5) * 5) if whole else 0
    except (TypeError, ValueError, ZeroDivisionError):
        value = 0
    return max(0, min(100, value))
