"""The seam between checkout (shop) and membership: coupons, points and loyalty on orders.

Checkout asks MemberDiscountPolicy (named by settings.SHOP_DISCOUNT_POLICY, see shop.discounts) for
coupon and points discounts; members.receivers calls the order and review functions when the shop's
signals say what happened. Every function that changes state runs inside the caller's transaction.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from members.models import (
    Coupon,
    CouponRedemption,
    CouponTemplate,
    EarningRules,
    PointsAccount,
    Promotion,
    PromotionApplication,
    StackingRules,
)
from members.services import benefits as benefit_services
from members.services import campaigns as campaign_services
from members.services import coupons as coupon_services
from members.services import points as points_services
from members.services import promotions as promotion_services
from members.services.tiers import tier_recompute

ZERO = Decimal("0.00")


NO_COUPON = "-"  # the coupon field's value for "不使用优惠券" (empty means: choose the best for me)


@dataclass
class DiscountQuote:
    """What a promotion, a coupon and points would take off a cart (a preview; nothing held).

    The stacking rule (StackingRules): at most one promotion (the best), one coupon (the typed one, or
    the best the member holds when none is typed) and points; together they never exceed the subtotal.
    """

    coupon_code: str = ""
    coupon_amount: Decimal = ZERO  # the coupon's own part
    promotion_discount: Decimal = ZERO
    member_price_discount: Decimal = ZERO  # the tier's 会员价 on its categories
    points_requested: int = 0
    points_used: int = 0
    points_discount: Decimal = ZERO
    # Why a coupon or points do not apply, in words for the shopper (empty when all applies).
    problems: list[str] = field(default_factory=list)
    # The coupon was chosen for the member (nothing typed).
    coupon_auto: bool = False
    # Set when the coupon applies; checkout_discounts_apply redeems these.
    coupon: Coupon | None = field(default=None, repr=False)
    coupon_template: CouponTemplate | None = field(default=None, repr=False)
    promotion: Promotion | None = field(default=None, repr=False)

    @property
    def coupon_discount(self):
        """What shop stores as the order's coupon discount: the coupon and the promotion together
        (the order keeps the promotion's own part in PromotionApplication)."""
        return self.coupon_amount + self.promotion_discount + self.member_price_discount

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
    quote.coupon, quote.coupon_template, quote.coupon_amount = coupon, template, check.discount


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


@dataclass
class CouponOption:
    """A coupon the member holds, as checkout lists it: what it would take off, or why it cannot."""

    coupon: Coupon
    discount: Decimal = ZERO
    problem: str = ""

    @property
    def usable(self):
        return not self.problem and self.discount > 0


def checkout_coupon_options(*, user, lines, now=None) -> list[CouponOption]:
    """Every available coupon the member holds, the usable ones first (biggest saving, soonest expiry)."""
    if not _is_member(user):
        return []
    options = []
    held = Coupon.objects.filter(user=user, status=Coupon.Status.AVAILABLE).select_related(
        "template", "template__min_tier"
    )
    for coupon in held:
        check = coupon_services.coupon_check(
            template=coupon.template,
            user=user,
            lines=lines,
            valid_from=coupon.valid_from,
            valid_until=coupon.valid_until,
            now=now,
        )
        options.append(CouponOption(coupon=coupon, discount=check.discount, problem=check.problem))
    far = timezone.now() + timedelta(days=36500)
    options.sort(key=lambda o: (not o.usable, -o.discount, o.coupon.valid_until or far, o.coupon.pk))
    return options


def checkout_best_coupon(*, user, lines) -> Coupon | None:
    """The held coupon that saves the most on `lines` (soonest expiring on a tie), or None."""
    options = checkout_coupon_options(user=user, lines=lines)
    return options[0].coupon if options and options[0].usable else None


def _promotion_part(quote, *, lines, subtotal, typed_code):
    rules = StackingRules.current()
    if quote.points_requested and not rules.promotion_with_points:
        return
    promotion, discount = promotion_services.promotion_best(lines=lines)
    if promotion is None:
        return
    if quote.coupon_amount and not rules.promotion_with_coupon:
        # One or the other: a typed code is the member's choice; otherwise the bigger saving wins.
        if typed_code or quote.coupon_amount >= discount:
            return
        quote.coupon = quote.coupon_template = None
        quote.coupon_amount, quote.coupon_code, quote.coupon_auto = ZERO, "", False
    quote.promotion, quote.promotion_discount = (
        promotion,
        min(discount, subtotal - quote.member_price_discount),
    )


def _cap_to_subtotal(quote, *, subtotal):
    # Together they never take the order below zero: the coupon gives way first, then the promotion.
    quote.promotion_discount = max(
        min(quote.promotion_discount, subtotal - quote.member_price_discount), ZERO
    )
    room = subtotal - quote.member_price_discount - quote.promotion_discount
    quote.coupon_amount = max(min(quote.coupon_amount, room), ZERO)


def checkout_discounts_quote(
    *, user, lines, subtotal, coupon_code="", points=0, client_ip="", record_failures=True
) -> DiscountQuote:
    """Preview promotion, coupon and points for `lines` = [(product, quantity, line_total), ...].

    No code typed: the best coupon the member holds is chosen for them (NO_COUPON turns that off).
    Problems say why the coupon or some points do not apply; nothing is held. Unknown codes count
    towards the guessing limit for this member and `client_ip`.
    """
    try:
        points = max(int(points or 0), 0)
    except (TypeError, ValueError):
        points = 0
    code = (coupon_code or "").strip().upper()
    quote = DiscountQuote(coupon_code="" if code == NO_COUPON else code, points_requested=points)
    member = _is_member(user)
    if not member and (quote.coupon_code or points):
        quote.problems.append(_("登录后才能使用优惠券和积分。"))
    elif member and not code:
        best = checkout_best_coupon(user=user, lines=lines)
        if best is not None:
            quote.coupon_code, quote.coupon_auto = best.code, True
            _coupon_part(
                quote,
                user=user,
                lines=lines,
                coupon_code=best.code,
                client_ip=client_ip,
                record_failures=False,
            )
    elif member and quote.coupon_code:
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
    if member:
        quote.member_price_discount = min(
            benefit_services.member_price_discount(user=user, lines=lines), subtotal
        )
    _promotion_part(quote, lines=lines, subtotal=subtotal, typed_code=bool(code) and code != NO_COUPON)
    _cap_to_subtotal(quote, subtotal=subtotal)
    if points and member:
        _points_part(quote, user=user, subtotal=subtotal)
    return quote


def checkout_discounts_apply(*, order, user, lines, coupon_code="", points=0, client_ip="") -> DiscountQuote:
    """Redeem the coupon and points for a new order, locking their rows; raise DomainError if not.

    Any problem (expired coupon, too few points, someone else's code...) refuses the whole order,
    so nothing is half-applied. The caller stores the returned amounts on the order.
    Locks, in order: coupon template, the member's points account, the coupon row.
    """
    with transaction.atomic():
        typed = (coupon_code or "").strip().upper()
        code = typed
        if not code and _is_member(user):
            # The coupon chosen for the member, named now so that its rows are locked like a typed one.
            best = checkout_best_coupon(user=user, lines=lines)
            code = best.code if best is not None else ""
        if code and code != NO_COUPON and _is_member(user):
            _coupon, template = coupon_services.coupon_lookup(user=user, code=code)
            if template is not None:
                CouponTemplate.objects.select_for_update().filter(pk=template.pk).first()
        if _is_member(user):
            points_services.points_account_lock(user=user)
        # Quote again under the locks: what the member saw may have changed since.
        quote = checkout_discounts_quote(
            user=user,
            lines=lines,
            subtotal=order.subtotal,
            coupon_code=typed,
            points=points,
            client_ip=client_ip,
        )
        if quote.problems:
            field_name = "coupon_code" if quote.coupon_code and not quote.coupon_amount else "points"
            raise DomainError(quote.problems[0], code="discount_refused", field=field_name)
        if quote.coupon_template is not None:
            coupon = quote.coupon or coupon_services.coupon_issue(
                template=quote.coupon_template, user=user, source=Coupon.Source.CODE
            )
            coupon_services.coupon_redeem(coupon=coupon, order=order, discount=quote.coupon_amount)
            quote.coupon = coupon
        if quote.promotion is not None and quote.promotion_discount:
            PromotionApplication.objects.create(
                promotion=quote.promotion, order=order, discount=quote.promotion_discount
            )
        if quote.points_used:
            points_services.points_redeem(user=user, order=order, points=quote.points_used)
        return quote


class MemberDiscountPolicy:
    """shop.discounts.DiscountPolicy for membership: promotions, coupons (typed or chosen) and points."""

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
    """Credit (pending) points at the tier and campaign multiplier, recompute the tier."""
    if order.user_id is None:
        return
    tier_recompute(user=order.user)
    # The tier's multiplier times any campaign (会员日) running when the order was placed.
    multiplier = campaign_services.order_points_preview(order=order).multiplier
    points_services.points_order_earn(order=order, multiplier=multiplier)


def order_completed(*, order) -> None:
    """Release pending points now if the shop already ran the return window from receipt (received_at);
    otherwise (an order completed by staff) start the window the release task counts from completed_at.

    With no window at all the points are released straight away.
    """
    if order.user_id is None:
        return
    if order.received_at is not None or EarningRules.current().return_window_days == 0:
        points_services.points_order_release(order=order)


def _unwind_locks(order):
    # Same lock order as checkout_discounts_apply (templates, account, coupons): no deadlock.
    template_ids = CouponRedemption.objects.filter(order=order, reversed_at__isnull=True).values_list(
        "coupon__template_id", flat=True
    )
    list(CouponTemplate.objects.select_for_update().filter(pk__in=list(template_ids)).order_by("pk"))
    points_services.points_account_lock(user=order.user)


def order_line_refunded(*, order, refund, lines, whole_order) -> None:
    """Lines were refunded: take back the points they earned and return the points they used, pro rata.

    The coupon comes back only when the whole order is refunded (order_refunded follows then).
    """
    if order.user_id is None:
        return
    with transaction.atomic():
        _unwind_locks(order)
        points_services.points_order_partial_refund(
            order=order,
            key=refund.reference,
            lines=[(line, quantity) for line, quantity, _amount in lines],
            final=whole_order,
            staff=refund.operator,
        )
        tier_recompute(user=order.user)


def _order_unwind(order):
    if order.user_id is None:
        return
    with transaction.atomic():
        _unwind_locks(order)
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


def review_rejected(*, review, by=None) -> None:
    """A rejected review's reward is taken back (once), as far as the points are still there."""
    points_services.points_review_reward_reverse(review=review, by=by)
