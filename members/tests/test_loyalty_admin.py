"""Staff configure check-in, the points mall and promotions in the admin, with readable validation."""

import pytest
from django.urls import reverse

from members.models import Checkin, Promotion, Reward
from members.tests.factories import CouponTemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "checkinrules",
        "stackingrules",
        "checkin",
        "reward",
        "rewardexchange",
        "promotion",
        "promotionapplication",
    ],
)
def test_changelists_render(admin_client, model):
    assert admin_client.get(reverse(f"admin:members_{model}_changelist")).status_code == 200


def test_promotion_ending_before_it_starts_is_refused(admin_client):
    response = admin_client.post(
        reverse("admin:members_promotion_add"),
        {
            "name": "坏活动",
            "kind": "threshold",
            "threshold": "100",
            "amount": "10",
            "starts_at_0": "2026-05-02",
            "starts_at_1": "00:00:00",
            "ends_at_0": "2026-05-01",
            "ends_at_1": "00:00:00",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "结束时间必须晚于开始时间" in response.content.decode()
    assert not Promotion.objects.exists()


def test_reward_over_the_coupons_own_limit_is_refused(admin_client):
    template = CouponTemplateFactory(per_member_limit=1)
    response = admin_client.post(
        reverse("admin:members_reward_add"),
        {
            "name": "券",
            "coupon_template": template.pk,
            "points_price": "100",
            "stock": "10",
            "per_member_limit": "3",
            "position": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "每人限兑不能超过它" in response.content.decode()
    assert not Reward.objects.exists()


def test_checkin_rules_refuse_a_bad_bonus_format(admin_client):
    response = admin_client.post(
        reverse("admin:members_checkinrules_add"),
        {"daily_points": "5", "streak_bonuses": "七天:50", "makeup_cost": "20", "makeup_per_month": "2"},
    )
    assert response.status_code == 200 and "格式不对" in response.content.decode()


def test_checkins_are_read_only(admin_client):
    assert admin_client.get(reverse("admin:members_checkin_add")).status_code == 403
    assert not Checkin.objects.exists()
