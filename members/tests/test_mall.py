"""Points mall: exchange points for a coupon; stock, per-member limit, balance and validity refuse clearly."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import DomainError
from members.models import Coupon, PointsAccount, PointsEntry, Reward, RewardExchange
from members.services import mall
from members.services import points as points_services
from members.tests.factories import CouponTemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


def reward(**kwargs):
    template = CouponTemplateFactory(name="满100减20", amount=20, min_spend=100, per_member_limit=5)
    fields = {
        "name": "20元券",
        "coupon_template": template,
        "points_price": 200,
        "stock": 10,
        "per_member_limit": 2,
    }
    fields.update(kwargs)
    return Reward.objects.create(**fields)


def member_with(points):
    user = UserFactory()
    if points:
        points_services.points_staff_adjust(user=user, delta=points, staff=None, note="测试")
    return user


def test_exchange_spends_points_and_gives_the_coupon():
    prize, user = reward(), member_with(500)
    exchange = mall.reward_exchange(user=user, reward_id=prize.pk)
    assert exchange.coupon.user == user and exchange.coupon.source == Coupon.Source.EXCHANGE
    assert PointsAccount.objects.get(user=user).available == 300
    entry = PointsEntry.objects.get(user=user, reason=PointsEntry.Reason.EXCHANGE)
    assert entry.available_delta == -200 and "20元券" in entry.note and exchange.entry == entry
    assert Reward.objects.get(pk=prize.pk).stock == 9
    assert points_services.points_ledger_differences() == []


def test_too_few_points_is_refused_and_nothing_changes():
    prize, user = reward(), member_with(150)
    with pytest.raises(DomainError, match="积分不足：兑换需要 200 积分，你有 150"):
        mall.reward_exchange(user=user, reward_id=prize.pk)
    assert Reward.objects.get(pk=prize.pk).stock == 10
    assert not Coupon.objects.filter(user=user).exists()


def test_per_member_limit_and_stock():
    prize, user = reward(per_member_limit=1, stock=2), member_with(1000)
    mall.reward_exchange(user=user, reward_id=prize.pk)
    with pytest.raises(DomainError, match="每人限兑"):
        mall.reward_exchange(user=user, reward_id=prize.pk)
    mall.reward_exchange(user=member_with(1000), reward_id=prize.pk)
    with pytest.raises(DomainError, match="已兑完"):
        mall.reward_exchange(user=member_with(1000), reward_id=prize.pk)


def test_ended_reward_is_refused():
    prize = reward(valid_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(DomainError, match="兑换已结束"):
        mall.reward_exchange(user=member_with(1000), reward_id=prize.pk)


def test_coupon_failure_rolls_the_points_back():
    prize, user = reward(), member_with(1000)
    prize.coupon_template.is_active = False
    prize.coupon_template.save()
    with pytest.raises(DomainError):
        mall.reward_exchange(user=user, reward_id=prize.pk)
    assert PointsAccount.objects.get(user=user).available == 1000
    assert not RewardExchange.objects.exists() and Reward.objects.get(pk=prize.pk).stock == 10


def test_staff_validation():
    template = CouponTemplateFactory(per_member_limit=1)
    bad = Reward(
        name="x",
        coupon_template=template,
        points_price=0,
        per_member_limit=3,
        valid_from=timezone.now(),
        valid_until=timezone.now() - timedelta(days=1),
    )
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert {"points_price", "per_member_limit", "valid_until"} <= set(error.value.message_dict)
