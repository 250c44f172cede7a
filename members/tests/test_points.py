"""Points ledger: credits, pending and release, refunds, redemption, FIFO expiry, the balance check."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.errors import DomainError
from members.models import EarningRules, PointsAccount, PointsEntry, PointsLot
from members.services import checkout_hooks
from members.services import points as points_services
from members.services.points import points_ledger_differences
from members.tests.factories import OrderFactory, TierFactory, UserFactory

pytestmark = pytest.mark.django_db


def balances(user):
    account = PointsAccount.objects.get(user=user)
    return account.available, account.pending


def test_paid_order_credits_pending_points_once_with_first_order_bonus():
    # given a member's first order, ¥200 paid at 1 point per yuan, bonus 200
    order = OrderFactory(subtotal=Decimal("200.00"), status="paid", paid_at=timezone.now())
    # when payment is reported twice (a retried callback)
    checkout_hooks.order_paid(order=order)
    checkout_hooks.order_paid(order=order)
    # then one pending credit of 200 + 200
    assert balances(order.user) == (0, 400)
    assert PointsEntry.objects.filter(order=order).count() == 1
    assert points_ledger_differences() == []


def test_tier_multiplier_applies_and_second_order_has_no_bonus():
    TierFactory(code="normal", position=0, min_spend=Decimal("0"), points_multiplier=Decimal("1"))
    TierFactory(code="gold", position=2, min_spend=Decimal("300"), points_multiplier=Decimal("2"))
    user = UserFactory()
    first = OrderFactory(user=user, subtotal=Decimal("200.00"), status="paid", paid_at=timezone.now())
    checkout_hooks.order_paid(order=first)
    second = OrderFactory(user=user, subtotal=Decimal("150.00"), status="paid", paid_at=timezone.now())
    checkout_hooks.order_paid(order=second)
    # spend 350 reaches gold (x2) for the second order: 150*2
    assert PointsEntry.objects.get(order=second).pending_delta == 300
    assert PointsAccount.objects.get(user=user).tier.code == "gold"


def test_pending_points_become_available_after_the_return_window():
    order = OrderFactory(status="paid", paid_at=timezone.now())
    checkout_hooks.order_paid(order=order)
    order.status, order.completed_at = "completed", timezone.now()
    order.save()
    checkout_hooks.order_completed(order=order)
    # not yet: the window is 7 days
    assert points_services.points_release_matured() == 0
    later = timezone.now() + timedelta(days=8)
    assert points_services.points_release_matured(now=later) == 1
    assert points_services.points_release_matured(now=later) == 0
    assert balances(order.user) == (400, 0)
    assert points_ledger_differences() == []


def test_refund_of_pending_points_takes_them_back_exactly_once():
    order = OrderFactory(status="paid", paid_at=timezone.now())
    checkout_hooks.order_paid(order=order)
    order.status = "refunded"
    order.save()
    checkout_hooks.order_refunded(order=order)
    checkout_hooks.order_refunded(order=order)
    assert balances(order.user) == (0, 0)
    assert PointsEntry.objects.filter(order=order, reason="refund").count() == 1


def test_refund_after_release_never_takes_more_than_is_left():
    # given released points that were mostly spent
    rules = EarningRules.current()
    rules.return_window_days = 0
    rules.save()
    order = OrderFactory(status="paid", paid_at=timezone.now())
    checkout_hooks.order_paid(order=order)
    checkout_hooks.order_completed(order=order)
    user = order.user
    points_services.points_staff_adjust(user=user, delta=-350, staff=None, note="测试消耗")
    # when the order is refunded
    checkout_hooks.order_refunded(order=order)
    # then only the 50 left are taken, never below zero
    assert balances(user) == (0, 0)
    assert points_ledger_differences() == []


def test_cannot_spend_more_than_available():
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=100, staff=None, note="补偿")
    with pytest.raises(DomainError):
        points_services.points_staff_adjust(user=user, delta=-101, staff=None, note="错误")
    assert balances(user) == (100, 0)
    assert PointsEntry.objects.filter(user=user).count() == 1


def test_points_expire_oldest_first():
    user = UserFactory()
    now = timezone.now()
    old = points_services.points_entry_write(
        user=user, reason="staff", available_delta=100, note="a", lot_expires_at=now + timedelta(days=10)
    )
    points_services.points_entry_write(
        user=user, reason="staff", available_delta=50, note="b", lot_expires_at=now + timedelta(days=100)
    )
    # spending 30 comes out of the oldest lot
    points_services.points_staff_adjust(user=user, delta=-30, staff=None, note="用掉")
    assert PointsLot.objects.get(entry=old).remaining == 70
    # when the first lot's time comes, its remaining 70 expire, once
    assert points_services.points_expire_due(now=now + timedelta(days=11)) == 1
    assert points_services.points_expire_due(now=now + timedelta(days=11)) == 0
    assert balances(user) == (50, 0)
    assert points_ledger_differences() == []


def test_review_reward_once_per_review():
    user = UserFactory()

    class FakeReview:
        pk = 99
        product = "好物"

    FakeReview.user, FakeReview.user_id = user, user.pk
    checkout_hooks.review_approved(review=FakeReview)
    checkout_hooks.review_approved(review=FakeReview)
    assert balances(user) == (20, 0)


def test_check_points_command_reports_a_difference():
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=10, staff=None, note="x")
    call_command("check_points", verbosity=0)
    PointsAccount.objects.filter(user=user).update(available=11)
    with pytest.raises(CommandError):
        call_command("check_points", verbosity=0)


def test_nightly_tasks_run_and_return_counts():
    from members import tasks

    assert tasks.points_expire.delay().get() == 0
    assert tasks.points_release.delay().get() == 0
    TierFactory(code="normal", position=0, min_spend=Decimal("0"))
    PointsAccount.objects.create(user=UserFactory())
    assert tasks.tiers_recompute.delay().get() == 1  # the new account gets the entry tier
    assert tasks.tiers_recompute.delay().get() == 0
    assert tasks.birthday_coupons.delay().get() == 0
