"""Fulfilment and after-sales: ship with tracking, receipt, returns per line, refunds, points follow."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from members.models import PointsAccount, PointsEntry
from members.services import points as points_services
from members.services.points import points_ledger_differences
from shop.models import AfterSale, Order, OrderLine, Payment, Product, Refund
from shop.services.aftersales import (
    aftersale_decide,
    aftersale_goods_receive,
    aftersale_refund,
    aftersale_request,
)
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.services.fulfilment import (
    order_confirm_receipt,
    order_return_window_ends,
    orders_complete_due,
    orders_confirm_receipt_due,
    shipment_create,
)
from shop.services.orders import payment_sandbox_settle
from shop.tasks import complete_orders_due, confirm_receipt_due
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
ADDRESS = {
    "recipient_name": "李四",
    "phone": "13900139000",
    "province": "广东省",
    "city": "深圳市",
    "address_line": "南山区科技园 8 号",
}


def balances(user):
    account = PointsAccount.objects.get(user=user)
    return account.available, account.pending


def paid_order(user, items, *, points=0, key="k1"):
    """items = [(product, quantity)]; placed and paid in the sandbox."""
    cart = cart_get_or_create(user=user)
    for product, quantity in items:
        cart_add(cart=cart, product_id=product.pk, quantity=quantity)
    order = order_place(
        user=user, cart=cart, address=ADDRESS, shipping_method="express", idempotency_key=key, points=points
    )
    payment_sandbox_settle(order=order, outcome="succeeded")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def line_of(order, product):
    return OrderLine.objects.get(order=order, product=product)


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def shop_two_products():
    return ProductFactory(price=Decimal("100.00"), stock=10), ProductFactory(price=Decimal("50.00"), stock=10)


def test_ship_receive_return_one_line_refund_money_and_points(staff, shop_two_products):
    # given a member who paid ¥200 of goods (+¥22 express) with 2,000 points (¥20) off
    a, b = shop_two_products
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=5000, staff=staff, note="开业赠送")
    order = paid_order(user, [(a, 1), (b, 2)], points=2000)
    assert order.points_discount == Decimal("20.00") and order.total == Decimal("202.00")
    earned = PointsEntry.objects.get(order=order, reason="purchase").pending_delta
    assert balances(user) == (3000, earned)
    # when staff ship it with a carrier and tracking number
    shipment = shipment_create(order=order, carrier="顺丰速运", tracking_number="SF1234567890", by=staff)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipments.get() == shipment
    # and the member confirms receipt (twice: the second is refused, nothing changes)
    order = order_confirm_receipt(order=order, by=user)
    assert order.status == Order.Status.RECEIVED and order.received_at
    with pytest.raises(DomainError):
        order_confirm_receipt(order=order, by=user)
    assert order_return_window_ends(order) == order.received_at + timedelta(days=7)
    # and returns product a (¥100 of ¥200 goods: half of the money for goods, points used and earned)
    after_sale = aftersale_request(
        order=order, user=user, kind="return", lines=[(line_of(order, a).pk, 1)], reason="不喜欢"
    )
    aftersale_decide(after_sale=after_sale, approve=True, by=staff, note="同意退货")
    after_sale.refresh_from_db()
    assert after_sale.status == AfterSale.Status.APPROVED  # waits for the parcel to come back
    with pytest.raises(DomainError):
        aftersale_refund(after_sale=after_sale, by=staff)  # not before the goods are back
    after_sale = aftersale_goods_receive(after_sale=after_sale, by=staff, note="已签收")
    # then that line's money goes back through the provider: (200 - 20) x 100/200 = ¥90
    assert after_sale.status == AfterSale.Status.REFUNDED
    refund = Refund.objects.get(after_sale=after_sale)
    assert refund.status == Refund.Status.SUCCEEDED and refund.amount == Decimal("90.00")
    assert refund.provider_reference and not refund.whole_order
    a.refresh_from_db()
    assert a.stock == 10 and line_of(order, a).refunded_quantity == 1
    # and its points: half the earned points taken back from pending, half the used points returned
    assert balances(user) == (3000 + 1000, earned - earned // 2)
    rows = PointsEntry.objects.filter(idempotency_key__startswith=f"order:{order.pk}:refund:")
    assert {row.reason for row in rows} == {"refund", "redeem_reversal"}
    assert all(row.staff == staff and row.note for row in rows)
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    # and when the clock passes the window, the order completes and the rest of the points arrive
    assert orders_complete_due() == 0
    later = timezone.now() + timedelta(days=8)
    assert orders_complete_due(now=later) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert balances(user) == (4000 + earned - earned // 2, 0)
    assert points_ledger_differences() == []
    # and returning after the window is refused
    with pytest.raises(DomainError):
        aftersale_request(
            order=order, user=user, kind="return", lines=[(line_of(order, b).pk, 1)], reason="晚了"
        )


def test_shipped_orders_are_confirmed_automatically_after_n_days(staff, shop_two_products, settings):
    settings.SHOP_AUTO_CONFIRM_DAYS = 10
    order = paid_order(UserFactory(), [(shop_two_products[0], 1)])
    shipment_create(order=order, carrier="中通快递", tracking_number="ZT1", by=staff)
    assert orders_confirm_receipt_due() == 0
    assert orders_confirm_receipt_due(now=timezone.now() + timedelta(days=10, minutes=1)) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED


def test_split_shipment_ships_the_order_with_the_last_parcel(staff, shop_two_products):
    a, b = shop_two_products
    order = paid_order(UserFactory(), [(a, 1), (b, 1)])
    shipment_create(
        order=order, carrier="顺丰速运", tracking_number="SF1", line_ids=[line_of(order, a).pk], by=staff
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    with pytest.raises(DomainError):  # a line goes out once
        shipment_create(
            order=order, carrier="顺丰速运", tracking_number="SF2", line_ids=[line_of(order, a).pk]
        )
    with pytest.raises(DomainError):  # tracking required
        shipment_create(order=order, carrier="顺丰速运", tracking_number=" ")
    shipment_create(order=order, carrier="顺丰速运", tracking_number="SF3", by=staff)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipments.count() == 2


def test_before_shipping_refund_only_is_refunded_at_once_and_stock_returns(staff, shop_two_products):
    a, b = shop_two_products
    user = UserFactory()
    order = paid_order(user, [(a, 1), (b, 2)])
    with pytest.raises(DomainError):
        aftersale_request(
            order=order, user=user, kind="return", lines=[(line_of(order, b).pk, 1)], reason="x"
        )
    after_sale = aftersale_request(
        order=order, user=user, kind="refund_only", lines=[(line_of(order, b).pk, 1)], reason="拍多了"
    )
    after_sale = aftersale_decide(after_sale=after_sale, approve=True, by=staff)
    assert after_sale.status == AfterSale.Status.REFUNDED
    b.refresh_from_db()
    assert b.stock == 9 and Refund.objects.get().amount == Decimal("50.00")
    # the rest ships as usual: the refunded unit does not go in the parcel
    shipment = shipment_create(order=order, carrier="顺丰速运", tracking_number="SF9")
    assert {(row.order_line.product_id, row.quantity) for row in shipment.lines.all()} == {
        (a.pk, 1),
        (b.pk, 1),
    }


def test_whole_order_refund_in_parts_adds_up_to_what_was_paid_and_returns_everything(
    staff, shop_two_products
):
    a, b = shop_two_products
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=3333, staff=staff, note="测试")
    order = paid_order(user, [(a, 1), (b, 1)], points=3333)
    for line in order.lines.all():
        after_sale = aftersale_request(
            order=order, user=user, kind="refund_only", lines=[(line.pk, 1)], reason="不要了"
        )
        aftersale_decide(after_sale=after_sale, approve=True, by=staff)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert sum(r.amount for r in Refund.objects.all()) == order.total  # shipping included, to the fen
    assert Refund.objects.filter(whole_order=True).count() == 1
    assert Payment.objects.get(order=order).status == Payment.Status.REFUNDED
    assert balances(user) == (3333, 0)
    assert points_ledger_differences() == []
    assert sum(p.stock for p in Product.objects.all()) == 20


def test_bad_requests_are_refused_and_change_nothing(staff, shop_two_products):
    a, b = shop_two_products
    user = UserFactory()
    order = paid_order(user, [(a, 1), (b, 2)])
    line = line_of(order, b)
    shipment_create(order=order, carrier="顺丰速运", tracking_number="SF7")
    with pytest.raises(DomainError):  # not received yet
        aftersale_request(order=order, user=user, kind="return", lines=[(line.pk, 1)], reason="x")
    order = order_confirm_receipt(order=order, by=user)
    bad = [
        dict(lines=[(line.pk, 3)]),  # more than was bought
        dict(lines=[(line.pk, 0)]),
        dict(lines=[(line.pk, "two")]),
        dict(lines=[(999999, 1)]),
        dict(lines=[]),
        dict(lines=[(line.pk, 1)], reason=" "),
        dict(lines=[(line.pk, 1)], kind="swap"),
    ]
    for case in bad:
        kwargs = {"order": order, "user": user, "kind": "return", "reason": "坏了", **case}
        with pytest.raises(DomainError):
            aftersale_request(**kwargs)
    with pytest.raises(DomainError):  # someone else's order
        aftersale_request(order=order, user=UserFactory(), kind="return", lines=[(line.pk, 1)], reason="x")
    first = aftersale_request(order=order, user=user, kind="return", lines=[(line.pk, 2)], reason="坏了")
    with pytest.raises(DomainError):  # the two units are already claimed by an open request
        aftersale_request(order=order, user=user, kind="return", lines=[(line.pk, 1)], reason="再退")
    with pytest.raises(DomainError):  # reject needs a note
        aftersale_decide(after_sale=first, approve=False, by=staff, note="")
    aftersale_decide(after_sale=first, approve=False, by=staff, note="商品无质量问题")
    with pytest.raises(DomainError):  # decided once
        aftersale_decide(after_sale=first, approve=True, by=staff)
    assert AfterSale.objects.filter(order=order).count() == 1 and not Refund.objects.exists()
    # the window closes with nothing open: the order completes
    assert orders_complete_due(now=timezone.now() + timedelta(days=8)) == 1


def test_refund_never_exceeds_what_was_paid(staff, shop_two_products):
    a, _b = shop_two_products
    user = UserFactory()
    order = paid_order(user, [(a, 2)])
    after_sale = aftersale_request(
        order=order, user=user, kind="refund_only", lines=[(line_of(order, a).pk, 1)], reason="x"
    )
    aftersale_decide(after_sale=after_sale, approve=True, by=staff)
    # a refund recorded elsewhere (say by hand at the provider) leaves less than the second line is worth
    Refund.objects.create(
        order=order,
        payment=order.payments.get(),
        amount=Decimal("150.00"),
        reference="MANUAL1",
        status="succeeded",
    )
    second = aftersale_request(
        order=order, user=user, kind="refund_only", lines=[(line_of(order, a).pk, 1)], reason="x"
    )
    with pytest.raises(DomainError) as refused:
        aftersale_decide(after_sale=second, approve=True, by=staff)
    assert refused.value.code == "refund_exceeds_paid"
    second.refresh_from_db()
    assert second.status == AfterSale.Status.APPROVED and line_of(order, a).refunded_quantity == 1


def test_with_the_clock_moved_the_beat_tasks_confirm_complete_and_release_points_without_staff(
    staff, shop_two_products, settings, monkeypatch
):
    # given a shipped order the member never confirms
    user = UserFactory()
    order = paid_order(user, [(shop_two_products[0], 1)])
    shipment_create(order=order, carrier="顺丰速运", tracking_number="SF42", by=staff)
    earned = balances(user)[1]
    assert earned > 0
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"shop.tasks.confirm_receipt_due", "shop.tasks.complete_orders_due"} <= beat
    start = timezone.now()

    def clock_at(days):
        monkeypatch.setattr(timezone, "now", lambda: start + timedelta(days=days))

    # when the clock moves past the auto-confirm days, then past the return window, and the beat runs
    clock_at(9)
    assert confirm_receipt_due() == 0 and complete_orders_due() == 0
    clock_at(10.01)
    assert confirm_receipt_due() == 1
    clock_at(16)
    assert complete_orders_due() == 0  # the window is 7 days from receipt
    assert balances(user) == (0, earned)
    clock_at(17.02)
    assert complete_orders_due() == 1
    # then the order completed and its points became available, with nobody doing anything
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert balances(user) == (earned, 0)
    assert points_ledger_differences() == []
