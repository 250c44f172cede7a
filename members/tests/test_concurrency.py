"""Exactly-once under concurrency: 50 threads race for one coupon (PostgreSQL row locks)."""

import functools
from decimal import Decimal

import pytest

from core.errors import DomainError
from core.testing import run_concurrently
from members.models import Coupon, CouponRedemption, CouponTemplate, PointsAccount
from members.services import checkout_hooks
from members.services import points as points_services
from members.tests.factories import (
    CouponFactory,
    CouponTemplateFactory,
    OrderFactory,
    ProductFactory,
    UserFactory,
    cart_lines,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 50


def race(attempts):
    """Run each (order, user, code, points) attempt in its own thread, released together by a barrier."""
    product = ProductFactory()
    lines = cart_lines((product, 2))

    def attempt(order, user, code, points):
        checkout_hooks.checkout_discounts_apply(
            order=order, user=user, lines=lines, coupon_code=code, points=points
        )
        return "ok"

    jobs = [functools.partial(attempt, *a) for a in attempts]
    return [
        "refused" if isinstance(outcome, DomainError) else outcome
        for outcome in run_concurrently(*jobs, catch=(DomainError,))
    ]


def test_single_use_coupon_redeemed_once_by_50_concurrent_orders():
    coupon = CouponFactory()
    user = coupon.user
    orders = [OrderFactory(user=user) for _i in range(THREADS)]
    outcomes = race([(order, user, coupon.code, 0) for order in orders])
    assert outcomes.count("ok") == 1 and outcomes.count("refused") == THREADS - 1
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    assert CouponTemplate.objects.get(pk=coupon.template_id).redeemed_count == 1


def test_public_code_per_member_limit_holds_under_concurrency():
    CouponTemplateFactory(code="ONCEONLY", per_member_limit=1)
    user = UserFactory()
    outcomes = race([(OrderFactory(user=user), user, "ONCEONLY", 0) for _i in range(THREADS)])
    assert outcomes.count("ok") == 1
    assert Coupon.objects.filter(user=user).count() == 1


def test_total_quantity_holds_under_concurrency():
    template = CouponTemplateFactory(code="LIMITED", per_member_limit=1, total_quantity=5)
    attempts = []
    for _i in range(THREADS):
        user = UserFactory()
        attempts.append((OrderFactory(user=user), user, "LIMITED", 0))
    outcomes = race(attempts)
    assert outcomes.count("ok") == 5
    template.refresh_from_db()
    assert template.issued_count == 5 and template.redeemed_count == 5


def test_points_cannot_be_spent_twice_under_concurrency():
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=5000, staff=None, note="测试")
    outcomes = race(
        [(OrderFactory(user=user, subtotal=Decimal("200.00")), user, "", 5000) for _i in range(THREADS)]
    )
    assert outcomes.count("ok") == 1
    assert PointsAccount.objects.get(user=user).available == 0
    assert points_services.points_ledger_differences() == []


def test_paid_callback_retried_concurrently_credits_points_once():
    from django.utils import timezone

    from members.models import PointsEntry

    order = OrderFactory(status="paid", paid_at=timezone.now())
    outcomes = run_concurrently(*[lambda: checkout_hooks.order_paid(order=order)] * 20)
    failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert failures == []
    assert PointsEntry.objects.filter(order=order, reason="purchase").count() == 1
    assert PointsAccount.objects.get(user=order.user).pending == 400
