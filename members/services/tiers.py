"""Membership tiers from rolling 12-month spend."""
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from members.models import PointsAccount, Tier
from members.services.points import points_account_lock

SPENDING_STATUSES = ("paid", "shipped", "completed")


def spend_12m_for(*, user_id, now=None) -> Decimal:
    from shop.models import Order

    since = (now or timezone.now()) - timedelta(days=365)
    total = (Order.objects.filter(user_id=user_id, status__in=SPENDING_STATUSES, paid_at__gte=since)
             .aggregate(s=Sum("total"))["s"])
    return total or Decimal("0.00")


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
    from members.models import User

    count = 0
    for user in User.objects.filter(is_active=True).only("pk").iterator():
        tier_recompute(user=user, now=now)
        count += 1
    return count
