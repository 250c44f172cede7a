"""Orders: history and detail only for their owner, guests sent to log in, state changes and the task."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from shop.models import Order, OrderStatusChange, Payment, Product
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.services.orders import (
    order_cancel,
    order_complete,
    order_mark_paid,
    order_refund,
    order_ship,
    orders_cancel_unpaid,
)
from shop.tasks import cancel_unpaid_orders
from shop.tests.factories import OrderFactory, OrderLineFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient_name": "李四",
    "phone": "13900139000",
    "province": "广东省",
    "city": "深圳市",
    "address_line": "南山区科技园 8 号",
}


def _pending_order(user, product, quantity=1, key="k"):
    cart = cart_get_or_create(user=user)
    cart_add(cart=cart, product_id=product.pk, quantity=quantity)
    return order_place(user=user, cart=cart, address=ADDRESS, shipping_method="express", idempotency_key=key)


def test_guest_is_sent_to_log_in(client):
    order = OrderFactory()
    for url in [
        reverse("shop:order_list"),
        order.get_absolute_url(),
        reverse("shop:order_paid", args=[order.number]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_nobody_sees_or_acts_on_another_members_order(client):
    owner, stranger = UserFactory(), UserFactory()
    order = _pending_order(owner, ProductFactory())
    client.force_login(stranger)
    assert client.get(order.get_absolute_url()).status_code == 404
    assert client.get(reverse("shop:order_paid", args=[order.number])).status_code == 404
    assert client.post(reverse("shop:order_cancel", args=[order.number])).status_code == 404
    assert client.post(reverse("shop:order_pay", args=[order.number])).status_code == 404
    assert order.number not in client.get(reverse("shop:order_list")).content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT and not Payment.objects.exists()


def test_unknown_order_number_is_404(client):
    client.force_login(UserFactory())
    assert client.get("/orders/NOPE123/").status_code == 404


def test_order_history_is_paginated_and_query_bounded(client, django_assert_max_num_queries):
    user = UserFactory()
    for _ in range(24):
        OrderLineFactory(order__user=user)
    client.force_login(user)
    client.get(reverse("shop:order_list"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("shop:order_list"))
    assert len(response.context["page_obj"].object_list) == 10
    assert response.context["page_obj"].paginator.num_pages == 3
    with django_assert_max_num_queries(12):
        assert client.get(response.context["page_obj"].object_list[0].get_absolute_url()).status_code == 200


def test_shopper_cancels_an_unpaid_order_and_stock_returns(client):
    user = UserFactory()
    product = ProductFactory(stock=4)
    order = _pending_order(user, product, 3)
    client.force_login(user)
    client.post(reverse("shop:order_cancel", args=[order.number]))
    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancelled_at
    assert product.stock == 4
    # a second cancel is refused with a message, not applied twice
    response = client.post(reverse("shop:order_cancel", args=[order.number]), follow=True)
    assert list(response.context["messages"])
    product.refresh_from_db()
    assert product.stock == 4


def test_paid_order_cannot_be_cancelled_by_the_shopper():
    user = UserFactory()
    order = order_mark_paid(order=_pending_order(user, ProductFactory()))
    with pytest.raises(DomainError):
        order_cancel(order=order, by=user)


def test_full_life_records_who_and_when():
    staff = UserFactory(is_staff=True)
    user = UserFactory()
    product = ProductFactory(stock=5)
    order = _pending_order(user, product, 2)
    order = order_mark_paid(order=order)
    order = order_ship(order=order, by=staff)
    order = order_complete(order=order, by=staff)
    assert order.paid_at and order.shipped_at and order.completed_at
    steps = list(OrderStatusChange.objects.filter(order=order).values_list("to_status", "changed_by"))
    assert steps == [
        ("pending_payment", user.pk),
        ("paid", None),
        ("shipped", staff.pk),
        ("completed", staff.pk),
    ]
    with pytest.raises(DomainError):
        order_ship(order=order, by=staff)  # no going back


def test_refund_returns_stock_and_sales_once():
    user = UserFactory()
    product = ProductFactory(stock=5)
    order = order_mark_paid(order=_pending_order(user, product, 2))
    order = order_refund(order=order, by=None)
    product.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refunded_at
    assert product.stock == 5 and product.sales_count == 0
    with pytest.raises(DomainError):
        order_refund(order=order, by=None)


def test_unpaid_orders_are_cancelled_after_30_minutes():
    user = UserFactory()
    product = ProductFactory(stock=5)
    old = _pending_order(user, product, 1, key="old")
    fresh = _pending_order(user, product, 1, key="fresh")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=31))
    assert cancel_unpaid_orders.delay().get() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == Order.Status.CANCELLED and fresh.status == Order.Status.PENDING_PAYMENT
    assert Product.objects.get(pk=product.pk).stock == 4
    assert orders_cancel_unpaid() == 0


def test_order_pages_show_totals_in_yuan(client):
    user = UserFactory()
    order = _pending_order(user, ProductFactory(price=Decimal("1234.50")))
    client.force_login(user)
    html = client.get(order.get_absolute_url()).content.decode()
    assert "¥1,234.50" in html and "¥1,256.50" in html  # express ¥22
