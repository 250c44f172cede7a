"""The seam between checkout (shop) and membership: coupons, points and loyalty on orders.

shop.services calls these at fixed points of an order's life; membership owns what they do.
Every function that changes state runs inside the caller's transaction.
"""
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass
class DiscountQuote:
    """What a coupon code and a number of points would take off a cart (a preview; nothing held)."""

    coupon_code: str = ""
    coupon_discount: Decimal = ZERO
    points_requested: int = 0
    points_used: int = 0
    points_discount: Decimal = ZERO
    # Why a coupon or points do not apply, in words for the shopper (empty when all applies).
    problems: list[str] = field(default_factory=list)

    @property
    def total_discount(self):
        return self.coupon_discount + self.points_discount


def checkout_discounts_quote(*, user, lines, subtotal, coupon_code="", points=0) -> DiscountQuote:
    """Preview coupon and points for `lines` = [(product, quantity, line_total), ...]."""
    return DiscountQuote(coupon_code=coupon_code or "", points_requested=points or 0)


def checkout_discounts_apply(*, order, user, lines, coupon_code="", points=0) -> DiscountQuote:
    """Redeem the coupon and points for a new order, locking their rows; raise DomainError if not."""
    return checkout_discounts_quote(user=user, lines=lines, subtotal=order.subtotal,
                                    coupon_code=coupon_code, points=points)


def order_paid(*, order) -> None:
    """Credit (pending) points, recompute the tier."""


def order_completed(*, order) -> None:
    """Start the return window after which pending points become available."""


def order_cancelled(*, order) -> None:
    """Give back the coupon and redeemed points of an unpaid order."""


def order_refunded(*, order) -> None:
    """Take back earned points and give back coupon and redeemed points, exactly once."""
