"""The admin's home page figures: today's orders and revenue, stock, after-sales, points and the recommender.

A template library (`{% load shop_dashboard %}`, registered in settings.TEMPLATES) so the admin index can
show them; each panel appears only to staff who may view what it counts (least privilege).
"""

from datetime import timedelta

from django import template
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from members.models import PointsEntry
from recommender.models import TrainingRun
from recommender.stats import click_through
from shop.models import AfterSale, Event, Order, Product

register = template.Library()

PAID = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.RECEIVED, Order.Status.COMPLETED)
DAYS = 7


def _day_start(days_ago=0):
    now = timezone.localtime()
    return (now - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def _orders(user) -> dict | None:
    if not user.has_perm("shop.view_order"):
        return None
    since = _day_start(DAYS - 1)
    rows = (
        Order.objects.filter(paid_at__gte=since, status__in=PAID).values_list("paid_at", "total").order_by()
    )
    days = {(_day_start(DAYS - 1 - i)).date(): [0, 0] for i in range(DAYS)}
    for paid_at, total in rows:
        day = timezone.localtime(paid_at).date()
        if day in days:
            days[day][0] += 1
            days[day][1] += total
    top = max((revenue for _n, revenue in days.values()), default=0) or 1
    series = [
        {
            "day": day,
            "orders": n,
            "revenue": revenue,
            "height": max(1, round(58 * float(revenue) / float(top))),
        }
        for day, (n, revenue) in days.items()
    ]
    for day in series:
        day["top"] = 60 - day["height"]  # SVG y grows downwards: bars stand on the bottom edge
    today = series[-1]
    waiting = Order.objects.filter(status=Order.Status.PAID).count()
    return {
        "today_orders": today["orders"],
        "today_revenue": today["revenue"],
        "series": series,
        "to_ship": waiting,
    }


def _stock(user) -> dict | None:
    if not user.has_perm("shop.view_product"):
        return None
    low = getattr(settings, "SHOP_LOW_STOCK", 5)
    counts = Product.objects.filter(is_active=True).aggregate(
        out=Count("pk", filter=Q(stock=0)), low=Count("pk", filter=Q(stock__gt=0, stock__lte=low))
    )
    lowest = list(Product.objects.filter(is_active=True, stock__lte=low).order_by("stock", "pk")[:5])
    return {**counts, "lowest": lowest, "threshold": low}


def _after_sales(user) -> dict | None:
    if not user.has_perm("shop.view_aftersale"):
        return None
    return {
        "waiting": AfterSale.objects.filter(status=AfterSale.Status.REQUESTED).count(),
        "open": AfterSale.objects.filter(status__in=AfterSale.OPEN_STATUSES).count(),
    }


def _points(user) -> dict | None:
    if not user.has_perm("members.view_pointsentry"):
        return None
    today = PointsEntry.objects.filter(created_at__gte=_day_start())
    issued = today.filter(available_delta__gt=0).aggregate(n=Sum("available_delta"))["n"] or 0
    pending = today.filter(pending_delta__gt=0).aggregate(n=Sum("pending_delta"))["n"] or 0
    redeemed = today.filter(reason=PointsEntry.Reason.REDEEM).aggregate(n=Sum("available_delta"))["n"] or 0
    return {"issued": issued, "pending": pending, "redeemed": -redeemed}


def _recommender(user) -> dict | None:
    if not user.has_perm("recommender.view_trainingrun"):
        return None
    run = TrainingRun.objects.order_by("-started_at", "-pk").first()
    active = TrainingRun.objects.filter(is_active=True).first()
    rates = click_through(days=1)["block"]
    impressions = sum(r["impressions"] for r in rates.values())
    clicks = sum(r["clicks"] for r in rates.values())
    return {
        "latest": run,
        "active": active,
        "impressions": impressions,
        "clicks": clicks,
        "ctr": clicks / impressions if impressions else None,
        "events_today": Event.objects.filter(created_at__gte=_day_start()).count(),
    }


@register.simple_tag(takes_context=True)
def shop_dashboard(context) -> dict:
    """Figures for the admin home, each None when the staff member may not see what it counts."""
    user = context["request"].user
    return {
        "orders": _orders(user),
        "stock": _stock(user),
        "after_sales": _after_sales(user),
        "points": _points(user),
        "recommender": _recommender(user),
    }
