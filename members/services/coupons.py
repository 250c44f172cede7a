"""Coupons: issuing (claim, gifts, staff, personal offers), checking against a cart, redeeming once."""

import calendar
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from members.models import Coupon, CouponRedemption, CouponTemplate, EarningRules, PointsAccount

ZERO = Decimal("0.00")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud
CODE_FAILURES_LIMIT = 10
CODE_FAILURES_WINDOW = 600
# Several members behind one address (an office, a campus) share a larger allowance.
CODE_FAILURES_LIMIT_PER_IP = 30


# ---- guessing guard -------------------------------------------------------------------------


def _code_failure_keys(user_id, ip):
    """One counter per member and one per address: extra accounts on one address buy no guesses."""
    keys = {f"members:coupon-code-failures:user:{user_id}": CODE_FAILURES_LIMIT} if user_id else {}
    if ip:
        keys[f"members:coupon-code-failures:ip:{ip}"] = CODE_FAILURES_LIMIT_PER_IP
    return keys


def coupon_code_guard(*, user_id, ip) -> None:
    """Refuse while this member, or anyone at this address, has typed too many unknown codes."""
    limits = _code_failure_keys(user_id, ip)
    counts = cache.get_many(list(limits))
    if any((counts.get(key) or 0) >= limit for key, limit in limits.items()):
        raise DomainError(
            _("券码输入错误次数过多，请10分钟后再试。"), code="coupon_rate_limited", field="coupon_code"
        )


def coupon_code_failure_record(*, user_id, ip, code="") -> None:
    """Count one more failed code; the same wrong code typed again (preview, then place) counts once."""
    seen_key = f"members:coupon-code-failure:{user_id or 0}:{ip or '-'}:{code[:32]}"
    if code and not cache.add(seen_key, 1, CODE_FAILURES_WINDOW):
        return
    for key in _code_failure_keys(user_id, ip):
        cache.add(key, 0, CODE_FAILURES_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, CODE_FAILURES_WINDOW)


# ---- issuing --------------------------------------------------------------------------------


def coupon_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(12))


def _validity(template, now):
    valid_from = template.valid_from
    valid_until = template.valid_until
    if template.valid_days:
        by_days = now + timedelta(days=template.valid_days)
        valid_until = min(valid_until, by_days) if valid_until else by_days
    return valid_from, valid_until


def _tier_allows(template, user) -> bool:
    if template.min_tier_id is None:
        return True
    account = PointsAccount.objects.filter(user=user).select_related("tier").first()
    return bool(account and account.tier and account.tier.position >= template.min_tier.position)


def coupon_issue(*, template, user, source, staff=None, issue_key=None, now=None) -> Coupon:
    """Give `user` one coupon from `template`, within its total quantity and per-member limit.

    The template row is locked first (lock order everywhere: template, points account, coupon),
    so concurrent issues of one template queue and the counts below cannot race.
    """
    now = now or timezone.now()
    with transaction.atomic():
        template = CouponTemplate.objects.select_for_update().get(pk=template.pk)
        if issue_key and Coupon.objects.filter(issue_key=issue_key).exists():
            raise DomainError(_("这张优惠券已经发放过了。"), code="coupon_already_issued")
        if not template.is_active:
            raise DomainError(_("该优惠活动已结束。"), code="coupon_inactive")
        if template.valid_until and template.valid_until <= now:
            raise DomainError(_("该优惠券已过期。"), code="coupon_expired")
        held = Coupon.objects.filter(template=template, user=user).exclude(status=Coupon.Status.VOID).count()
        if held >= template.per_member_limit:
            raise DomainError(_("已达到每人限领数量。"), code="coupon_member_limit")
        bumped = (
            CouponTemplate.objects.filter(pk=template.pk)
            .filter(Q(total_quantity__isnull=True) | Q(issued_count__lt=F("total_quantity")))
            .update(issued_count=F("issued_count") + 1)
        )
        if not bumped:
            raise DomainError(_("优惠券已被领完。"), code="coupon_sold_out")
        valid_from, valid_until = _validity(template, now)
        return Coupon.objects.create(
            template=template,
            user=user,
            code=coupon_code_new(),
            source=source,
            valid_from=valid_from,
            valid_until=valid_until,
            issued_by=staff,
            issue_key=issue_key,
            issued_at=now,
        )


def coupon_claim(*, user, template_id) -> Coupon:
    """A member takes a coupon from the claim centre."""
    template = CouponTemplate.objects.filter(pk=template_id, is_active=True, is_claimable=True).first()
    if template is None:
        raise DomainError(_("没有找到这张优惠券。"), code="coupon_not_found")
    now = timezone.now()
    if template.valid_from and template.valid_from > now:
        raise DomainError(_("该优惠券尚未开始领取。"), code="coupon_not_yet_valid")
    if not _tier_allows(template, user):
        raise DomainError(
            _("该优惠券仅限%(tier)s及以上会员。") % {"tier": _(template.min_tier.name)}, code="coupon_tier"
        )
    return coupon_issue(template=template, user=user, source=Coupon.Source.CLAIM)


def coupons_signup_gift(*, user) -> list[Coupon]:
    issued = []
    for template in CouponTemplate.objects.filter(is_active=True, is_signup_gift=True):
        try:
            issued.append(
                coupon_issue(
                    template=template,
                    user=user,
                    source=Coupon.Source.SIGNUP,
                    issue_key=f"signup:{template.pk}:{user.pk}",
                )
            )
        except DomainError:
            continue  # sold out or ended: signup still succeeds
    return issued


def coupons_birthday_issue(*, today=None) -> int:
    """Birthday gift for every member whose birthday is today (once a year per template)."""
    from members.models import Profile

    today = today or timezone.localdate()
    templates = list(CouponTemplate.objects.filter(is_active=True, is_birthday_gift=True))
    count = 0
    born_today = Q(birth_date__month=today.month, birth_date__day=today.day)
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        born_today |= Q(birth_date__month=2, birth_date__day=29)  # leap-day birthdays get theirs too
    profiles = Profile.objects.filter(born_today, user__is_active=True).select_related("user")
    for profile in profiles:
        for template in templates:
            try:
                coupon_issue(
                    template=template,
                    user=profile.user,
                    source=Coupon.Source.BIRTHDAY,
                    issue_key=f"birthday:{today.year}:{template.pk}:{profile.user_id}",
                )
                count += 1
            except DomainError:
                continue
    return count


SEGMENTS = ("all", "tier", "inactive_90d")


def segment_members(*, segment, tier=None, now=None):
    from members.models import User

    now = now or timezone.now()
    members = User.objects.filter(is_active=True, is_staff=False)
    if segment == "tier":
        if tier is None:
            raise DomainError(_("请选择会员等级。"), code="segment_tier_required")
        members = members.filter(points_account__tier=tier)
    elif segment == "inactive_90d":
        since = now - timedelta(days=90)
        members = members.exclude(orders__created_at__gte=since).filter(
            Q(last_login__lt=since) | Q(last_login__isnull=True)
        )
    elif segment != "all":
        raise DomainError(_("未知的会员分组。"), code="segment_unknown")
    return members.distinct()


def coupons_issue_to_segment(*, template, segment, staff, tier=None) -> tuple[int, int]:
    """Staff bulk issue; returns (issued, skipped) — skipped are members at their limit or sold out."""
    issued = skipped = 0
    batch = timezone.now().strftime("%Y%m%d%H%M%S")
    for user in segment_members(segment=segment, tier=tier).order_by("pk").iterator():
        try:
            coupon_issue(
                template=template,
                user=user,
                source=Coupon.Source.STAFF,
                staff=staff,
                issue_key=f"staff:{template.pk}:{batch}:{user.pk}",
            )
            issued += 1
        except DomainError:
            skipped += 1
    return issued, skipped


def personal_offer_issue(*, user, category, now=None) -> Coupon | None:
    """Issue the recommender's personal offer for `category`; None when capped, opted out or no template.

    Prefers a personalised template scoped to that category, else a store-wide personalised one.
    At most EarningRules.personal_offers_per_month per member per calendar month, one a day.
    """
    from members.selectors import personalization_allowed

    now = now or timezone.now()
    if not personalization_allowed(user):
        return None
    templates = CouponTemplate.objects.filter(is_active=True, is_personalised=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )
    template = (
        templates.filter(scope=CouponTemplate.Scope.CATEGORIES, categories=category).first()
        if category is not None
        else None
    ) or templates.filter(scope=CouponTemplate.Scope.ALL).first()
    if template is None:
        return None
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_month = Coupon.objects.filter(
        user=user, source=Coupon.Source.PERSONAL, issued_at__gte=month_start
    ).count()
    if this_month >= EarningRules.current().personal_offers_per_month:
        return None
    try:
        return coupon_issue(
            template=template,
            user=user,
            source=Coupon.Source.PERSONAL,
            now=now,
            issue_key=f"personal:{user.pk}:{timezone.localdate(now).isoformat()}",
        )
    except DomainError:
        return None


# ---- checking against a cart ----------------------------------------------------------------


@dataclass
class CouponCheck:
    discount: Decimal = ZERO
    problem: str = ""


def _eligible_subtotal(template, lines) -> Decimal:
    if template.scope == CouponTemplate.Scope.ALL:
        return sum((total for _p, _q, total in lines), ZERO)
    if template.scope == CouponTemplate.Scope.PRODUCTS:
        ids = set(template.products.values_list("pk", flat=True))
        return sum((total for product, _q, total in lines if product.pk in ids), ZERO)
    ids = set(template.categories.values_list("pk", flat=True))
    # A category coupon also covers that category's direct subcategories.
    from shop.models import Category

    ids |= set(Category.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
    return sum((total for product, _q, total in lines if product.category_id in ids), ZERO)


def coupon_check(*, template, user, lines, valid_from=None, valid_until=None, now=None) -> CouponCheck:
    """The discount `template` gives on `lines` = [(product, qty, line_total)], or why it does not apply."""
    now = now or timezone.now()
    valid_from = valid_from if valid_from is not None else template.valid_from
    valid_until = valid_until if valid_until is not None else template.valid_until
    if not template.is_active or (valid_until and valid_until <= now):
        return CouponCheck(problem=_("优惠券已过期。"))
    if valid_from and valid_from > now:
        return CouponCheck(
            problem=_("优惠券尚未生效（%(when)s 起可用）。")
            % {"when": timezone.localtime(valid_from).strftime("%Y-%m-%d %H:%M")}
        )
    if not _tier_allows(template, user):
        return CouponCheck(
            problem=_("该优惠券仅限%(tier)s及以上会员使用。") % {"tier": _(template.min_tier.name)}
        )
    eligible = _eligible_subtotal(template, lines)
    if eligible <= 0:
        return CouponCheck(problem=_("购物车中没有适用此优惠券的商品。"))
    if eligible < template.min_spend:
        return CouponCheck(
            problem=_("未达到最低消费 ¥%(min)s（适用商品合计 ¥%(have)s）。")
            % {"min": template.min_spend, "have": eligible}
        )
    if template.kind == CouponTemplate.Kind.PERCENT:
        discount = (eligible * template.amount / Decimal("100")).quantize(Decimal("0.01"), ROUND_DOWN)
        if template.max_discount is not None:
            discount = min(discount, template.max_discount)
    else:
        discount = template.amount
    return CouponCheck(discount=min(discount, eligible))


def coupon_lookup(*, user, code):
    """(coupon, template) for a typed code: the member's own coupon, or a public template code.

    For a public code, coupon is the member's unused coupon from it, or None (issued at redemption).
    Returns (None, None) for unknown codes and for other members' coupons alike.
    """
    code = (code or "").strip().upper()
    if not code:
        return None, None
    coupon = Coupon.objects.filter(code=code).select_related("template", "template__min_tier").first()
    if coupon is not None:
        return (coupon, coupon.template) if coupon.user_id == user.pk else (None, None)
    template = CouponTemplate.objects.filter(code__iexact=code).select_related("min_tier").first()
    if template is None:
        return None, None
    held = (
        Coupon.objects.filter(template=template, user=user, status=Coupon.Status.AVAILABLE)
        .order_by("pk")
        .first()
    )
    return held, template


# ---- redeeming ------------------------------------------------------------------------------


def coupon_redeem(*, coupon, order, discount: Decimal) -> CouponRedemption:
    """Mark `coupon` used on `order`; exactly one concurrent caller wins (conditional update)."""
    now = timezone.now()
    with transaction.atomic():
        used = Coupon.objects.filter(pk=coupon.pk, status=Coupon.Status.AVAILABLE).update(
            status=Coupon.Status.USED, used_at=now
        )
        if not used:
            raise DomainError(_("这张优惠券已被使用。"), code="coupon_used", field="coupon_code")
        CouponTemplate.objects.filter(pk=coupon.template_id).update(redeemed_count=F("redeemed_count") + 1)
        return CouponRedemption.objects.create(coupon=coupon, order=order, discount=discount)


def coupon_redemptions_reverse(*, order) -> int:
    """Give back the coupon used on `order` (once); returns how many were given back."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for redemption in (
            CouponRedemption.objects.select_for_update()
            .filter(order=order, reversed_at__isnull=True)
            .order_by("pk")
        ):
            CouponRedemption.objects.filter(pk=redemption.pk).update(reversed_at=now)
            Coupon.objects.filter(pk=redemption.coupon_id, status=Coupon.Status.USED).update(
                status=Coupon.Status.AVAILABLE, used_at=None
            )
            CouponTemplate.objects.filter(pk=redemption.coupon.template_id, redeemed_count__gt=0).update(
                redeemed_count=F("redeemed_count") - 1
            )
            count += 1
    return count
