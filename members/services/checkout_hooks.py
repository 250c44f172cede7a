"""The seam between checkout (shop) and membership: coupons, points and loyalty on orders.

Checkout asks MemberDiscountPolicy (named by settings.SHOP_DISCOUNT_POLICY, see shop.discounts) for
coupon and points discounts; members.receivers calls the order and review functions when the shop's
signals say what happened. Every function that changes state runs inside the caller's transaction.
"""

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from members.models import Coupon, CouponRedemption, CouponTemplate, EarningRules, PointsAccount
from members.services import coupons as coupon_services
from members.services import points as points_services
from members.services.tiers import tier_recompute

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
    # Set when the coupon applies; checkout_discounts_apply redeems these.
    coupon: Coupon | None = field(default=None, repr=False)
    coupon_template: CouponTemplate | None = field(default=None, repr=False)

    @property
    def total_discount(self):
        return self.coupon_discount + self.points_discount


def _is_member(user):
    return user is not None and getattr(user, "is_authenticated", False)


def _coupon_part(quote, *, user, lines, coupon_code, client_ip, record_failures):
    coupon, template = coupon_services.coupon_lookup(user=user, code=coupon_code)
    if template is None:
        if record_failures:
            coupon_services.coupon_code_failure_record(user_id=user.pk, ip=client_ip, code=coupon_code)
        quote.problems.append(_("券码无效，或不是你的优惠券。"))
        return
    if coupon is None:
        # A public code: the member gets a coupon from it when the order is placed.
        held = Coupon.objects.filter(template=template, user=user).exclude(status=Coupon.Status.VOID).count()
        if held >= template.per_member_limit:
            quote.problems.append(_("你已用过这个券码，达到每人限用次数。"))
            return
        if template.total_quantity is not None and template.issued_count >= template.total_quantity:
            quote.problems.append(_("这个券码已被领完。"))
            return
        check = coupon_services.coupon_check(template=template, user=user, lines=lines)
    else:
        if coupon.status != Coupon.Status.AVAILABLE:
            quote.problems.append(_("这张优惠券已被使用或已作废。"))
            return
        check = coupon_services.coupon_check(
            template=template,
            user=user,
            lines=lines,
            valid_from=coupon.valid_from,
            valid_until=coupon.valid_until,
        )
    if check.problem:
        quote.problems.append(check.problem)
        return
    quote.coupon, quote.coupon_template, quote.coupon_discount = coupon, template, check.discount


def _points_part(quote, *, user, subtotal):
    if quote.coupon_template is not None and not quote.coupon_template.stackable_with_points:
        quote.problems.append(_("这张优惠券不能与积分同时使用。"))
        return
    account = PointsAccount.objects.filter(user=user).first()
    available = account.available if account else 0
    points = quote.points_requested
    if points > available:
        quote.problems.append(_("积分不足：你有 %(n)s 可用积分。") % {"n": available})
        points = available
    rules = EarningRules.current()
    cap_value = ((subtotal - quote.coupon_discount) * rules.redeem_max_share).quantize(
        Decimal("0.01"), ROUND_DOWN
    )
    cap_points = points_services.points_needed_for(value=cap_value) if cap_value > 0 else 0
    if points > cap_points:
        quote.problems.append(
            _("积分最多抵扣订单金额的 %(share)s%%，本单最多用 %(n)s 积分。")
            % {"share": int(rules.redeem_max_share * 100), "n": cap_points}
        )
        points = cap_points
    discount = min(points_services.points_value(points=points), cap_value)
    if discount <= 0:
        return
    quote.points_discount = discount
    quote.points_used = points_services.points_needed_for(value=discount)


def checkout_discounts_quote(
    *, user, lines, subtotal, coupon_code="", points=0, client_ip="", record_failures=True
) -> DiscountQuote:
    """Preview coupon and points for `lines` = [(product, quantity, line_total), ...].

    Problems say why the coupon or some points do not apply; nothing is held. Unknown codes count
    towards the guessing limit for this member and `client_ip`.
    """
    try:
        points = max(int(points or 0), 0)
    except (TypeError, ValueError):
        points = 0
    quote = DiscountQuote(coupon_code=(coupon_code or "").strip().upper(), points_requested=points)
    if not quote.coupon_code and not points:
        return quote
    if not _is_member(user):
        quote.problems.append(_("登录后才能使用优惠券和积分。"))
        return quote
    if quote.coupon_code:
        try:
            coupon_services.coupon_code_guard(user_id=user.pk, ip=client_ip)
        except DomainError as error:
            quote.problems.append(str(error.message))
        else:
            _coupon_part(
                quote,
                user=user,
                lines=lines,
                coupon_code=quote.coupon_code,
                client_ip=client_ip,
                record_failures=record_failures,
            )
    if points:
        _points_part(quote, user=user, subtotal=subtotal)
    return quote


def checkout_discounts_apply(*, order, user, lines, coupon_code="", points=0, client_ip="") -> DiscountQuote:
    """Redeem the coupon and points for a new order, locking their rows; raise DomainError if not.

    Any problem (expired coupon, too few points, someone else's code...) refuses the whole order,
    so nothing is half-applied. The caller stores the returned amounts on the order.
    Locks, in order: coupon template, the member's points account, the coupon row.
    """
    with transaction.atomic():
        code = (coupon_code or "").strip().upper()
        if code and _is_member(user):
            _coupon, template = coupon_services.coupon_lookup(user=user, code=code)
            if template is not None:
                CouponTemplate.objects.select_for_update().filter(pk=template.pk).first()
        if (code or points) and _is_member(user):
            points_services.points_account_lock(user=user)
        # Quote again under the locks: what the member saw may have changed since.
        quote = checkout_discounts_quote(
            user=user,
            lines=lines,
            subtotal=order.subtotal,
            coupon_code=code,
            points=points,
            client_ip=client_ip,
        )
        if quote.problems:
            field_name = "coupon_code" if code and not quote.coupon_discount else "points"
            raise DomainError(quote.problems[0], code="discount_refused", field=field_name)
        if quote.coupon_template is not None:
            coupon = quote.coupon or coupon_services.coupon_issue(
                template=quote.coupon_template, user=user, source=Coupon.Source.CODE
            )
            coupon_services.coupon_redeem(coupon=coupon, order=order, discount=quote.coupon_discount)
            quote.coupon = coupon
        if quote.points_used:
            points_services.points_redeem(user=user, order=order, points=quote.points_used)
        return quote


class MemberDiscountPolicy:
    """shop.discounts.DiscountPolicy for membership: coupon codes and points."""

    def quote(self, *, user, lines, subtotal, coupon_code="", points=0, client_ip="") -> DiscountQuote:
        return checkout_discounts_quote(
            user=user,
            lines=lines,
            subtotal=subtotal,
            coupon_code=coupon_code,
            points=points,
            client_ip=client_ip,
        )

    def apply(self, *, order, user, lines, coupon_code="", points=0, client_ip="") -> DiscountQuote:
        return checkout_discounts_apply(
            order=order, user=user, lines=lines, coupon_code=coupon_code, points=points, client_ip=client_ip
        )


def order_paid(*, order) -> None:
    """Credit (pending) points, recompute the tier."""
    if order.user_id is None:
        return
    account = tier_recompute(user=order.user)
    multiplier = account.tier.points_multiplier if account.tier else Decimal("1")
    points_services.points_order_earn(order=order, multiplier=multiplier)


def order_completed(*, order) -> None:
    """Start the return window after which pending points become available.

    The window is counted from order.completed_at by the release task; with no window at all the
    points are released straight away.
    """
    if order.user_id and EarningRules.current().return_window_days == 0:
        points_services.points_order_release(order=order)


def _order_unwind(order):
    if order.user_id is None:
        return
    with transaction.atomic():
        # Same lock order as checkout_discounts_apply (templates, account, coupons): no deadlock.
        template_ids = CouponRedemption.objects.filter(order=order, reversed_at__isnull=True).values_list(
            "coupon__template_id", flat=True
        )
        list(CouponTemplate.objects.select_for_update().filter(pk__in=list(template_ids)).order_by("pk"))
        points_services.points_account_lock(user=order.user)
        coupon_services.coupon_redemptions_reverse(order=order)
        points_services.points_redeem_reverse(order=order)
        points_services.points_order_reverse(order=order)
        tier_recompute(user=order.user)


def order_cancelled(*, order) -> None:
    """Give back the coupon and redeemed points (and take back any earned points), exactly once."""
    _order_unwind(order)


def order_refunded(*, order) -> None:
    """Take back earned points and give back coupon and redeemed points, exactly once."""
    _order_unwind(order)


def review_approved(*, review) -> None:
    """Reward an approved review with points (once per review)."""
    points_services.points_review_reward(review=review)
