"""Check-in and the points mall under races (PostgreSQL row locks): one check-in, stock and limits hold."""

import functools
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.errors import DomainError
from core.testing import run_concurrently
from members.models import (
    Checkin,
    Coupon,
    CouponRedemption,
    PointsAccount,
    PointsEntry,
    Reward,
    RewardExchange,
)
from members.services import checkin as checkin_services
from members.services import checkout_hooks, mall
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


def outcomes_of(jobs):
    return [
        "refused" if isinstance(outcome, DomainError) else "ok"
        for outcome in run_concurrently(*jobs, catch=(DomainError,))
    ]


def assert_ledger_sound():
    assert points_services.points_ledger_differences() == []
    call_command("check_points", verbosity=0)  # raises CommandError on any difference


def test_two_devices_checking_in_at_once_check_in_once():
    user = UserFactory()
    outcomes = outcomes_of([functools.partial(checkin_services.checkin_do, user=user) for _i in range(8)])
    assert outcomes.count("ok") == 1
    assert Checkin.objects.filter(user=user).count() == 1
    assert PointsEntry.objects.filter(user=user, reason=PointsEntry.Reason.CHECKIN).count() == 1
    assert_ledger_sound()


def test_many_members_racing_for_the_last_gifts_get_exactly_the_stock():
    template = CouponTemplateFactory(per_member_limit=1)
    reward = Reward.objects.create(name="限量券", coupon_template=template, points_price=100, stock=3)
    members = [UserFactory() for _i in range(12)]
    for member in members:
        points_services.points_staff_adjust(user=member, delta=150, staff=None, note="测试")
    outcomes = outcomes_of(
        [functools.partial(mall.reward_exchange, user=m, reward_id=reward.pk) for m in members]
    )
    assert outcomes.count("ok") == 3
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert RewardExchange.objects.count() == 3 and Coupon.objects.filter(template=template).count() == 3
    spent = PointsAccount.objects.filter(available=50).count()
    assert spent == 3
    assert_ledger_sound()


def test_one_member_racing_themself_gets_the_per_member_limit():
    template = CouponTemplateFactory(per_member_limit=5)
    reward = Reward.objects.create(
        name="每人两张", coupon_template=template, points_price=10, stock=100, per_member_limit=2
    )
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=1000, staff=None, note="测试")
    outcomes = outcomes_of(
        [functools.partial(mall.reward_exchange, user=user, reward_id=reward.pk) for _i in range(8)]
    )
    assert outcomes.count("ok") == 2
    assert PointsAccount.objects.get(user=user).available == 980
    assert Reward.objects.get(pk=reward.pk).stock == 98
    assert_ledger_sound()


def test_concurrent_checkouts_choosing_for_the_member_use_each_coupon_once():
    user = UserFactory()
    big = CouponFactory(user=user, template=CouponTemplateFactory(amount=Decimal("20")))
    small = CouponFactory(user=user, template=CouponTemplateFactory(amount=Decimal("5")))
    lines = cart_lines((ProductFactory(), 2))
    orders = [OrderFactory(user=user) for _i in range(6)]
    outcomes = outcomes_of(
        [
            functools.partial(checkout_hooks.checkout_discounts_apply, order=o, user=user, lines=lines)
            for o in orders
        ]
    )
    assert outcomes.count("ok") == 6  # the first two get a coupon each, the rest none: no order is refused
    used = sorted(CouponRedemption.objects.values_list("coupon_id", flat=True))
    assert used == sorted([big.pk, small.pk])
    assert_ledger_sound()
