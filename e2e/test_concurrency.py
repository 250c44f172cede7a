"""Races the owners' tests leave out: points spent while they expire and come back, a doubled callback."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from core.testing import run_concurrently
from members.models import PointsAccount, PointsEntry, PointsLot
from members.services import checkout_hooks
from members.services import points as points_services
from members.tests.factories import OrderFactory, OrderLineFactory, ProductFactory, UserFactory, cart_lines
from shop.models import Order, OrderStatusChange, Payment
from shop.services.orders import order_mark_paid, order_refund, payment_callback_handle, payment_start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Reason = PointsEntry.Reason


def _order_with_line(user):
    order = OrderFactory(user=user, subtotal=Decimal("200.00"))
    OrderLineFactory(order=order, product=ProductFactory(stock=10), unit_price=Decimal("200.00"))
    return order


@pytest.mark.parametrize("attempt", range(3))  # the interleaving differs from run to run
def test_points_redeemed_while_they_expire_and_a_refund_returns_some(attempt):
    # given 1,000 points in one lot, 300 of them spent on order X, which was paid
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=1000, staff=None, note="测试")
    order_x = _order_with_line(user)
    checkout_hooks.checkout_discounts_apply(order=order_x, user=user, lines=cart_lines(), points=300)
    order_mark_paid(order=order_x)
    # and the lot with the other 700 now due to expire
    PointsLot.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(minutes=1))
    order_y = OrderFactory(user=user, subtotal=Decimal("2000.00"))

    # when the expiry job, a new redemption of 700 and the refund of X all run at once
    expired, redeemed, refunded = run_concurrently(
        lambda: points_services.points_expire_due(),
        lambda: checkout_hooks.checkout_discounts_apply(
            order=order_y, user=user, lines=cart_lines(), points=700
        ),
        lambda: order_refund(order=Order.objects.get(pk=order_x.pk)),
    )

    # then nothing crashed: the redemption either worked or was refused for want of points
    assert not isinstance(expired, Exception), expired
    assert not isinstance(refunded, Exception), refunded
    assert not isinstance(redeemed, Exception) or isinstance(redeemed, DomainError), redeemed
    # each effect happened once
    entries = PointsEntry.objects.filter(user=user)
    assert entries.filter(reason=Reason.EXPIRE).count() <= 1
    assert entries.filter(reason=Reason.REDEEM_REVERSAL, order=order_x).count() == 1
    assert entries.filter(reason=Reason.REFUND, order=order_x).count() == 1
    assert entries.filter(reason=Reason.REDEEM, order=order_y).count() <= 1
    # the same points were not both spent and expired: the books balance
    spent_on_y = -sum(
        entries.filter(reason=Reason.REDEEM, order=order_y).values_list("available_delta", flat=True)
    )
    expired_points = -sum(entries.filter(reason=Reason.EXPIRE).values_list("available_delta", flat=True))
    assert spent_on_y + expired_points == 700  # the due lot went one way or the other, not both
    account = PointsAccount.objects.get(user=user)
    assert account.available == 1000 - 300 + 300 - spent_on_y - expired_points >= 0
    assert account.pending == 0
    assert points_services.points_ledger_differences() == []


def test_a_payment_callback_delivered_ten_times_at_once_pays_once():
    # given an order awaiting payment and the provider's signed "succeeded" callback
    user = UserFactory()
    order = _order_with_line(user)
    payment, _url = payment_start(order=order)
    from shop.payments import provider_get

    callback = provider_get("sandbox").callback_fields(payment, "succeeded")

    # when the provider delivers it ten times at the same moment
    results = run_concurrently(*[lambda: payment_callback_handle(data=callback) for _i in range(10)])

    # then every delivery is answered, and the order was paid exactly once
    assert not [r for r in results if isinstance(r, Exception)], results
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert OrderStatusChange.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert PointsEntry.objects.filter(order=order, reason=Reason.PURCHASE).count() == 1
    assert points_services.points_ledger_differences() == []
