"""Membership tiers from rolling 12-month spend."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from members.models import PointsAccount, Tier
from members.services.points import points_account_lock

SPENDING_STATUSES = ("paid", "shipped", "received", "completed")


def spend_12m_for(*, user_id, now=None) -> Decimal:
    from shop.models import Order, Refund

    since = (now or timezone.now()) - timedelta(days=365)
    total = Order.objects.filter(user_id=user_id, status__in=SPENDING_STATUSES, paid_at__gte=since).aggregate(
        s=Sum("total")
    )["s"]
    # Lines refunded through after-sales are not spending.
    refunded = Refund.objects.filter(
        order__user_id=user_id,
        order__status__in=SPENDING_STATUSES,
        order__paid_at__gte=since,
        status=Refund.Status.SUCCEEDED,
    ).aggregate(s=Sum("amount"))["s"]
    return max((total or Decimal("0.00")) - (refunded or Decimal("0.00")), Decimal("0.00"))


def tier_for_spend(*, spend: Decimal) -> Tier | None:
    return Tier.objects.filter(min_spend__lte=spend).order_by("-position").first()


def tier_recompute(*, user, now=None) -> PointsAccount:
    """Set the member's tier and 12-month spend from their paid orders."""
    with transaction.atomic():
        account = points_account_lock(user=user)
        spend = spend_12m_for(user_id=user.pk, now=now)
        tier = tier_for_spend(spend=spend)
        PointsAccount.objects.filter(pk=account.pk).update(spend_12m=spend, tier=tier)
        account.spend_12m, account.tier = spend, tier
        return account


def tiers_recompute_all(*, now=None) -> int:
    """Nightly: every account's 12-month spend and tier from one aggregate; returns how many changed.

    Only spend_12m and tier are written (other writers update their own columns), so no lock is needed.
    """
    from shop.models import Order

    since = (now or timezone.now()) - timedelta(days=365)
    spend_by_user = dict(
        Order.objects.filter(user__isnull=False, status__in=SPENDING_STATUSES, paid_at__gte=since)
        .values("user_id")
        .annotate(spend=Sum("total"))
        .values_list("user_id", "spend")
    )
    tiers = list(Tier.objects.order_by("-position"))
    changed = 0
    accounts = PointsAccount.objects.only("pk", "user_id", "spend_12m", "tier_id").order_by("pk")
    for account in accounts.iterator(chunk_size=2000):
        spend = spend_by_user.get(account.user_id) or Decimal("0.00")
        tier = next((t for t in tiers if t.min_spend <= spend), None)
        tier_id = tier.pk if tier else None
        if account.spend_12m != spend or account.tier_id != tier_id:
            PointsAccount.objects.filter(pk=account.pk).update(spend_12m=spend, tier_id=tier_id)
            changed += 1
    return changed
