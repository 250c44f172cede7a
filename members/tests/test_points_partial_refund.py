"""Points on partial refunds: per line, pro rata, the coupon only with the whole order, shortfalls written down."""

from decimal import Decimal

import pytest

from members.models import Coupon, PointsAccount, PointsEntry
from members.services import points as points_services
from members.services.points import points_ledger_differences
from members.tests.factories import CouponFactory, ProductFactory, UserFactory
from shop.models import AfterSale
from shop.services.aftersales import aftersale_decide, aftersale_request
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.services.orders import payment_sandbox_settle

pytestmark = pytest.mark.django_db
ADDRESS = {
    "recipient_name": "王五",
    "phone": "13700137000",
    "province": "北京市",
    "city": "北京市",
    "address_line": "1 号",
}


def balances(user):
    account = PointsAccount.objects.get(user=user)
    return account.available, account.pending


def order_for(user, items, *, coupon_code="", points=0):
    cart = cart_get_or_create(user=user)
    for product, quantity in items:
        cart_add(cart=cart, product_id=product.pk, quantity=quantity)
    order = order_place(
        user=user,
        cart=cart,
        address=ADDRESS,
        shipping_method="express",
        idempotency_key=f"k-{user.pk}",
        coupon_code=coupon_code,
        points=points,
    )
    payment_sandbox_settle(order=order, outcome="succeeded")
    order.refresh_from_db()
    return order


def refund_lines(order, user, lines):
    after_sale = aftersale_request(order=order, user=user, kind="refund_only", lines=lines, reason="不要了")
    return aftersale_decide(after_sale=after_sale, approve=True, by=None, note="同意")


def test_the_coupon_comes_back_only_when_the_whole_order_is_refunded():
    user = UserFactory()
    a, b = ProductFactory(price=Decimal("60.00"), stock=3), ProductFactory(price=Decimal("40.00"), stock=3)
    coupon = CouponFactory(user=user, template__amount=Decimal("10.00"))
    order = order_for(user, [(a, 1), (b, 1)], coupon_code=coupon.code)
    assert order.coupon_discount == Decimal("10.00")
    line_a, line_b = order.lines.order_by("pk")
    refund_lines(order, user, [(line_a.pk, 1)])
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.USED  # a partial refund keeps the coupon spent
    refund_lines(order, user, [(line_b.pk, 1)])
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.AVAILABLE
    assert balances(user) == (0, 0) and points_ledger_differences() == []


def test_a_refund_after_the_points_were_released_and_spent_records_the_shortfall():
    # given an order whose points were released early and then spent
    user = UserFactory()
    product = ProductFactory(price=Decimal("100.00"), stock=3)
    order = order_for(user, [(product, 2)])
    earned = PointsEntry.objects.get(order=order, reason="purchase").pending_delta
    points_services.points_order_release(order=order)
    points_services.points_staff_adjust(user=user, delta=-(earned - 10), staff=None, note="测试消耗")
    # when one of the two units is refunded
    refund_lines(order, user, [(order.lines.get().pk, 1)])
    # then only the 10 left are taken, and the row says how many could not be
    row = PointsEntry.objects.get(idempotency_key__startswith=f"order:{order.pk}:refund:")
    assert row.available_delta == -10
    assert "未能扣回" in row.note and str(earned // 2 - 10) in row.note
    assert balances(user) == (0, 0) and points_ledger_differences() == []


def test_partial_shares_add_up_exactly():
    user = UserFactory()
    product = ProductFactory(price=Decimal("33.33"), stock=9)
    points_services.points_staff_adjust(user=user, delta=1001, staff=None, note="赠送")
    order = order_for(user, [(product, 3)], points=1001)
    line = order.lines.get()
    for _ in range(3):
        refund_lines(order, user, [(line.pk, 1)])
    assert AfterSale.objects.filter(status="refunded").count() == 3
    assert balances(user) == (1001, 0) and points_ledger_differences() == []
