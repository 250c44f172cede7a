"""Reads for the member centre, checkout and the recommender: never change state."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from members.models import (
    Address,
    Coupon,
    CouponTemplate,
    Favourite,
    PointsAccount,
    PointsEntry,
    PointsLot,
    Profile,
    Tier,
)


def personalization_allowed(user) -> bool:
    """Whether `user`'s pages may be personalised and their behaviour used for training."""
    if user is None or not getattr(user, "is_authenticated", False):
        return True  # guests: session-based lists only, nothing stored against a person
    enabled = (
        Profile.objects.filter(user_id=user.pk).values_list("personalization_enabled", flat=True).first()
    )
    return enabled is not False


def members_opted_out_ids() -> set[int]:
    """Ids of members who switched personalised recommendations off."""
    return set(Profile.objects.filter(personalization_enabled=False).values_list("user_id", flat=True))


def default_address_for(user) -> Address | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Address.objects.filter(user=user).order_by("-is_default", "-created_at").first()


def points_account_for(user) -> PointsAccount:
    account = PointsAccount.objects.filter(user=user).select_related("tier").first()
    return account or PointsAccount(user=user)


def points_expiring_soon(user, *, days=30, now=None):
    """(points, earliest expiry) of available points expiring within `days`."""
    now = now or timezone.now()
    lots = PointsLot.objects.filter(user=user, remaining__gt=0, expires_at__lte=now + timedelta(days=days))
    row = lots.aggregate(points=Sum("remaining"))
    first = lots.order_by("expires_at").values_list("expires_at", flat=True).first()
    return row["points"] or 0, first


def tier_progress(account: PointsAccount) -> dict:
    """Current tier, next tier, and how far the member's 12-month spend is towards it."""
    tiers = list(Tier.objects.order_by("position"))
    current = account.tier
    following = [t for t in tiers if t.min_spend > account.spend_12m]
    next_tier = following[0] if following else None
    floor = current.min_spend if current else 0
    if next_tier is None:
        return {"tier": current, "next": None, "remaining": 0, "percent": 100, "step": 100}
    span = next_tier.min_spend - floor
    done = account.spend_12m - floor
    percent = int(max(0, min(100, done * 100 / span))) if span > 0 else 100
    # "step" is the percent in the design system's 5% bar-width classes (.w-0 … .w-100).
    return {
        "tier": current,
        "next": next_tier,
        "remaining": next_tier.min_spend - account.spend_12m,
        "percent": percent,
        "step": percent - percent % 5,
    }


def points_history(user):
    return PointsEntry.objects.filter(user=user).select_related("order").order_by("-created_at", "-id")


def coupons_for(user, *, state, now=None):
    """The member's coupons in one of 'available', 'used', 'expired'."""
    now = now or timezone.now()
    coupons = Coupon.objects.filter(user=user).select_related("template")
    not_expired = Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    if state == "available":
        return coupons.filter(not_expired, status=Coupon.Status.AVAILABLE).order_by("valid_until", "pk")
    if state == "used":
        return coupons.filter(status=Coupon.Status.USED).order_by("-used_at")
    if state == "expired":
        return coupons.filter(~not_expired, status=Coupon.Status.AVAILABLE).order_by("-valid_until")
    raise ValueError(state)


def coupons_expiring_soon(user, *, days=7, now=None):
    now = now or timezone.now()
    return coupons_for(user, state="available", now=now).filter(valid_until__lte=now + timedelta(days=days))


def claimable_templates(user, *, now=None):
    """Claim-centre templates, each annotated with how many the member already holds."""
    now = now or timezone.now()
    return (
        CouponTemplate.objects.filter(is_active=True, is_claimable=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("min_tier")
        .annotate(
            held=Count("coupons", filter=Q(coupons__user=user) & ~Q(coupons__status=Coupon.Status.VOID))
        )
        .order_by("valid_until", "pk")
    )


def favourites_for(user):
    return Favourite.objects.filter(user=user).select_related("product").order_by("-created_at")


def favourite_product_ids(user) -> set[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(Favourite.objects.filter(user=user).values_list("product_id", flat=True))


def recently_viewed_products(user, *, limit=24):
    """Products the member viewed, newest first, each once."""
    from shop.models import Event, Product

    seen, ids = set(), []
    rows = (
        Event.objects.filter(user=user, kind=Event.Kind.VIEW, product__isnull=False)
        .order_by("-created_at")
        .values_list("product_id", flat=True)[:500]
    )
    for product_id in rows:
        if product_id not in seen:
            seen.add(product_id)
            ids.append(product_id)
        if len(ids) >= limit:
            break
    products = Product.objects.in_bulk(ids)
    return [products[i] for i in ids if i in products and products[i].is_active]


def recent_orders(user, *, limit=5):
    from shop.models import Order

    return Order.objects.filter(user=user).order_by("-created_at")[:limit]


def checkout_address_initial(user) -> dict:
    """Checkout form initial values from the member's default address (empty for guests / none)."""
    address = default_address_for(user)
    if address is None:
        return {}
    return {
        name: getattr(address, name)
        for name in ("recipient_name", "phone", "province", "city", "district", "address_line", "postcode")
    }


def points_expiry_schedule(user, *, now=None, limit=12) -> list[tuple]:
    """[(expiry date, points)] of the member's available points, soonest first: what expires when."""
    now = now or timezone.now()
    rows = (
        PointsLot.objects.filter(user=user, remaining__gt=0, expires_at__gt=now)
        .order_by("expires_at")
        .values_list("expires_at", "remaining")
    )
    schedule: dict = {}
    for expires_at, remaining in rows:
        day = timezone.localtime(expires_at).date()
        schedule[day] = schedule.get(day, 0) + remaining
    return list(schedule.items())[:limit]


def tier_benefits_table() -> list[dict]:
    """Each tier with what it gives: points multiplier, 会员价, birthday-month points, tier-only coupons."""
    tiers = list(Tier.objects.order_by("position").prefetch_related("member_price_categories"))
    coupons: dict = {}
    for template in CouponTemplate.objects.filter(is_active=True, min_tier__isnull=False).select_related(
        "min_tier"
    ):
        for tier in tiers:
            if tier.position >= template.min_tier.position:
                coupons.setdefault(tier.pk, []).append(template)
    return [
        {
            "tier": tier,
            "categories": [c.name for c in tier.member_price_categories.all()],
            "coupons": coupons.get(tier.pk, []),
        }
        for tier in tiers
    ]


def account_deletion_blockers(user) -> list[str]:
    """Why the member cannot delete the account now: each open order or after-sale, in words; empty if none."""
    from django.utils.translation import gettext as _

    from shop.models import AfterSale, Order

    open_orders = Order.objects.filter(
        user=user,
        status__in=[
            Order.Status.PENDING_PAYMENT,
            Order.Status.PAID,
            Order.Status.SHIPPED,
            Order.Status.RECEIVED,
        ],
    ).order_by("created_at", "pk")
    reasons = [
        _("订单 %(number)s %(status)s，请等订单完成或取消后再注销。")
        % {"number": order.number, "status": order.get_status_display()}
        for order in open_orders
    ]
    open_after_sales = (
        AfterSale.objects.filter(user=user, status__in=AfterSale.OPEN_STATUSES)
        .select_related("order")
        .order_by("pk")
    )
    reasons += [
        _("售后 %(number)s（订单 %(order)s）%(status)s，请等售后办结后再注销。")
        % {"number": sale.number, "order": sale.order.number, "status": sale.get_status_display()}
        for sale in open_after_sales
    ]
    return reasons


def account_deletion_losses(user) -> dict:
    """What deleting the account gives up: points (available and pending) and unused coupons."""
    account = PointsAccount.objects.filter(user=user).first()
    return {
        "points_available": account.available if account else 0,
        "points_pending": account.pending if account else 0,
        "coupons": coupons_for(user, state="available").count(),
    }
