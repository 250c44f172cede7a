"""Daily reminders: points and coupons that expire within the next days (7 by default)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Sum
from django.utils import timezone

from members.models import Coupon, PointsLot
from notifications.services.messages import notification_queue
from notifications.services.webhooks import webhook_event_emit

REMIND_DAYS = 7


def points_expiring_remind(*, now=None, days: int = REMIND_DAYS) -> tuple[list[int], list[int]]:
    """Queue a reminder for each member with available points expiring within `days`.

    Keyed by the member and the earliest expiry date: the daily run reminds once per batch of lots.
    Returns the new deliveries' and webhook deliveries' ids, for the caller to enqueue after commit.
    """
    now = now or timezone.now()
    rows = (
        PointsLot.objects.filter(
            remaining__gt=0, expires_at__gt=now, expires_at__lte=now + timedelta(days=days)
        )
        .values("user_id")
        .annotate(points=Sum("remaining"), first=Min("expires_at"))
        .order_by("user_id")
    )
    users = get_user_model().objects.in_bulk([row["user_id"] for row in rows])
    queued, hooks = [], []
    for row in rows:
        user = users.get(row["user_id"])
        when = timezone.localdate(row["first"]).isoformat()
        params = {"points": row["points"], "expires_on": when}
        queued += notification_queue(
            event="points_expiring", user=user, ref=f"{row['user_id']}:{when}", params=params
        )
        hooks += webhook_event_emit(
            event_type="points.expiring",
            key=f"{row['user_id']}:{when}",
            data={"member": row["user_id"], "points": row["points"], "expires_on": when},
        )
    return queued, hooks


def coupons_expiring_remind(*, now=None, days: int = REMIND_DAYS) -> list[int]:
    """Queue a reminder for each member holding usable coupons that expire within `days`."""
    now = now or timezone.now()
    rows = (
        Coupon.objects.filter(
            status=Coupon.Status.AVAILABLE, valid_until__gt=now, valid_until__lte=now + timedelta(days=days)
        )
        .values("user_id")
        .annotate(count=Count("id"), first=Min("valid_until"))
        .order_by("user_id")
    )
    users = get_user_model().objects.in_bulk([row["user_id"] for row in rows])
    queued = []
    for row in rows:
        when = timezone.localdate(row["first"]).isoformat()
        params = {"count": row["count"], "expires_on": when}
        queued += notification_queue(
            event="coupons_expiring",
            user=users.get(row["user_id"]),
            ref=f"{row['user_id']}:{when}",
            params=params,
        )
    return queued
