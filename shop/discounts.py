"""The discount seam of checkout: shop asks a policy what a cart's coupon and points take off.

Shop defines the interface and a policy that gives nothing; the setting SHOP_DISCOUNT_POLICY names the
implementation (membership's coupons and points), so checkout imports nothing above the shop.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.errors import DomainError

DEFAULT_POLICY = "shop.discounts.NoDiscounts"


class Discounts(Protocol):
    """What a quote or an application tells checkout (a policy may return a richer object)."""

    coupon_discount: Decimal
    points_discount: Decimal
    points_used: int
    problems: list  # why a coupon or points do not apply, in words for the shopper


@dataclass
class NoDiscount:
    coupon_discount: Decimal = Decimal("0.00")
    points_discount: Decimal = Decimal("0.00")
    points_used: int = 0
    problems: list = field(default_factory=list)


class DiscountPolicy(Protocol):
    """Prices coupon codes and points on checkout lines = [(product, quantity, line_total), ...]."""

    def quote(self, *, user, lines, subtotal, coupon_code="", points=0, client_ip="") -> Discounts:
        """A preview: nothing is held; problems say what does not apply."""

    def apply(self, *, order, user, lines, coupon_code="", points=0, client_ip="") -> Discounts:
        """Redeem for a new order inside the caller's transaction; raise DomainError to refuse it."""


class NoDiscounts:
    """A shop without coupons or points: asking for either is refused."""

    @staticmethod
    def _problems(coupon_code, points):
        return [_("本店暂不支持优惠券和积分。")] if (coupon_code or "").strip() or points else []

    def quote(self, *, user, lines, subtotal, coupon_code="", points=0, client_ip="") -> Discounts:
        return NoDiscount(problems=self._problems(coupon_code, points))

    def apply(self, *, order, user, lines, coupon_code="", points=0, client_ip="") -> Discounts:
        problems = self._problems(coupon_code, points)
        if problems:
            raise DomainError(problems[0], code="discount_refused", field="coupon_code")
        return NoDiscount()


@lru_cache(maxsize=4)
def _policy_named(path: str) -> DiscountPolicy:
    return import_string(path)()


def discount_policy() -> DiscountPolicy:
    """The policy named by settings.SHOP_DISCOUNT_POLICY (one instance per name)."""
    return _policy_named(getattr(settings, "SHOP_DISCOUNT_POLICY", DEFAULT_POLICY))
