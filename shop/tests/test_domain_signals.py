"""Shop tells what happened by signal and asks for discounts through a policy: it imports nothing above it."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from core.errors import DomainError
from shop import signals
from shop.discounts import NoDiscounts, discount_policy
from shop.models import Event, Order, Payment
from shop.services.events import event_record
from shop.services.orders import order_cancel, order_mark_paid, order_ship
from shop.tests.factories import OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
SHOP = Path(__file__).resolve().parents[1]
WEB = ("views.py", "admin.py", "api", "tests", "templatetags", "migrations")


def _listen(signal, handler):
    signal.connect(handler, weak=False, dispatch_uid="test-listener")
    return lambda: signal.disconnect(dispatch_uid="test-listener")


def test_shop_domain_modules_import_neither_members_nor_recommender():
    offenders = []
    for path in SHOP.rglob("*.py"):
        if any(part in WEB for part in path.relative_to(SHOP).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(SHOP)}: {n}"
                for n in names
                if n.split(".")[0] in ("members", "recommender", "demo")
            ]
    assert offenders == []


def test_order_paid_is_sent_inside_the_payment_transaction_and_a_refusal_rolls_it_back():
    order = OrderFactory(user=UserFactory(), status=Order.Status.PENDING_PAYMENT)
    seen = []

    def refuse(sender, order, **kwargs):
        seen.append((order.pk, order.status, connection.in_atomic_block))
        raise DomainError("no")

    stop = _listen(signals.order_paid, refuse)
    try:
        with pytest.raises(DomainError):
            order_mark_paid(order=order)
    finally:
        stop()
    assert seen == [(order.pk, Order.Status.PAID, True)]
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT  # the payment did not commit without its points


def test_shipping_and_cancelling_are_announced():
    heard = []
    paid = OrderFactory(user=UserFactory(), status=Order.Status.PAID)
    stop = _listen(signals.order_shipped, lambda sender, order, **kw: heard.append(order.pk))
    try:
        order_ship(order=paid)
    finally:
        stop()
    assert heard == [paid.pk]
    unpaid = OrderFactory(user=UserFactory(), status=Order.Status.PENDING_PAYMENT)
    heard.clear()
    stop = _listen(signals.order_cancelled, lambda sender, order, **kw: heard.append(order.pk))
    try:
        order_cancel(order=unpaid)
    finally:
        stop()
    assert heard == [unpaid.pk]
    assert not Payment.objects.filter(order=unpaid, status=Payment.Status.PENDING).exists()


def test_a_failing_behaviour_listener_never_breaks_recording():
    def broken(sender, event, **kwargs):
        raise RuntimeError("listener down")

    stop = _listen(signals.behaviour_recorded, broken)
    try:
        event = event_record(kind=Event.Kind.VIEW, user=UserFactory(), product=ProductFactory())
    finally:
        stop()
    assert event is not None and Event.objects.filter(pk=event.pk).exists()


def test_the_discount_policy_is_the_one_the_setting_names(settings):
    assert type(discount_policy()).__name__ == "MemberDiscountPolicy"
    settings.SHOP_DISCOUNT_POLICY = "shop.discounts.NoDiscounts"
    assert isinstance(discount_policy(), NoDiscounts)
    assert discount_policy() is discount_policy()  # loaded once


def test_without_a_membership_policy_coupons_and_points_are_refused():
    policy = NoDiscounts()
    lines = [(ProductFactory(), 1, Decimal("10.00"))]
    assert policy.quote(user=None, lines=lines, subtotal=Decimal("10.00")).problems == []
    quote = policy.quote(user=None, lines=lines, subtotal=Decimal("10.00"), coupon_code="X", points=5)
    assert quote.problems and quote.coupon_discount == quote.points_discount == 0
    with pytest.raises(DomainError):
        policy.apply(order=None, user=None, lines=lines, points=5)
    assert policy.apply(order=None, user=None, lines=lines).points_used == 0
