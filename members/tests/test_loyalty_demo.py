"""The demo shop shows issue 15: promotions, the points mall and a shopper on a check-in streak."""

import pytest

from members.demo import membership_demo_reset, membership_demo_seed
from members.models import Checkin, Promotion, Reward
from members.services.points import points_ledger_differences
from members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_shows_promotions_mall_and_a_streak_and_runs_twice():
    shopper = UserFactory()
    membership_demo_seed(shopper=shopper)
    membership_demo_seed(shopper=shopper)
    assert Promotion.objects.filter(is_active=True).exists() and Reward.objects.count() == 3
    assert Checkin.objects.filter(user=shopper).count() == 5
    assert shopper.reward_exchanges.count() == 1
    assert points_ledger_differences() == []
    membership_demo_reset()
    assert not Checkin.objects.exists()
