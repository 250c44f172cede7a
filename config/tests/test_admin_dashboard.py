"""The admin home shows today's figures, each only to staff who may see what it counts."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from shop.models import Order
from shop.tests.factories import OrderFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_a_superuser_sees_orders_revenue_stock_and_the_recommender(client):
    OrderFactory(status=Order.Status.PAID, paid_at=timezone.now(), total=Decimal("123.40"))
    ProductFactory(name="快没货的杯子", stock=1)
    client.force_login(StaffFactory(is_superuser=True))
    body = client.get("/admin/").content.decode()
    assert "今日订单" in body and "¥123.40" in body
    assert "快没货的杯子" in body
    assert "今日点击率" in body and "今日积分" in body


def test_warehouse_staff_see_no_revenue_or_points(client):
    staff = StaffFactory(is_superuser=False)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_product", content_type__app_label="shop")
    )
    client.force_login(staff)
    body = client.get("/admin/").content.decode()
    assert "库存" in body
    assert "今日订单" not in body and "今日积分" not in body and "今日点击率" not in body
