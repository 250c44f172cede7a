"""Campaigns (会员日): double points on a schedule, per category, and the staff preview that says why."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from members.models import Campaign, PointsEntry
from members.services import checkout_hooks
from members.services.campaigns import order_points_preview
from members.tests.factories import (
    CategoryFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def order_of(*products):
    order = OrderFactory(subtotal=D("200"), total=D("200"))
    for product in products:
        OrderLineFactory(
            order=order, product=product, product_name=product.name, quantity=1, line_total=D("100")
        )
    return order


def running(**kwargs):
    now = timezone.now()
    return Campaign.objects.create(
        name=kwargs.pop("name", "会员日"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        **kwargs,
    )


def test_double_points_day_doubles_an_orders_points():
    running(multiplier=D("2"))
    order = order_of(ProductFactory(), ProductFactory())
    checkout_hooks.order_paid(order=order)
    entry = PointsEntry.objects.get(order=order, reason=PointsEntry.Reason.PURCHASE)
    assert entry.pending_delta == 400 + 200  # 200 yuan × 2, and the first-order bonus


def test_category_campaign_counts_only_its_lines_and_the_preview_says_why():
    books = CategoryFactory()
    running(name="图书三倍", multiplier=D("3")).categories.set([books])
    order = order_of(ProductFactory(category=books), ProductFactory())
    preview = order_points_preview(order=order)
    assert preview.multiplier == D("2") and preview.points == 400 + 200  # (100×3 + 100×1) / 200
    assert any("图书三倍" in reason for reason in preview.reasons)
    assert any("首单奖励" in reason for reason in preview.reasons)


def test_campaign_outside_its_window_gives_nothing_extra():
    now = timezone.now()
    Campaign.objects.create(
        name="昨天", multiplier=D("2"), starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
    )
    assert order_points_preview(order=order_of(ProductFactory())).multiplier == 1


def test_campaign_ending_before_it_starts_is_refused():
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        Campaign(name="x", multiplier=D("0.5"), starts_at=now, ends_at=now - timedelta(hours=1)).full_clean()
    assert {"ends_at", "multiplier"} <= set(error.value.message_dict)


def test_staff_preview_page(client):
    running(multiplier=D("2"))
    order = order_of(ProductFactory())
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    body = client.get(reverse("admin:members_campaign_preview"), {"order": order.number}).content.decode()
    assert "付款后可得" in body and "会员日" in body
    assert client.get(reverse("admin:members_campaign_changelist")).status_code == 200
