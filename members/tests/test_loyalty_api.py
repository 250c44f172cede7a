"""The member side of check-in, the points mall, promotions and expiry through the API."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from members.models import Promotion, Reward
from members.services import points as points_services
from members.tests.factories import CouponTemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return UserFactory()


@pytest.fixture
def api(member):
    client = APIClient()
    client.force_authenticate(member)
    return client


def test_check_in_once_a_day(api):
    first = api.post("/api/v1/me/checkin/")
    assert first.status_code == 201 and first.json()["streak"] == 1
    again = api.post("/api/v1/me/checkin/")
    assert again.status_code == 400 and again.json()["code"] == "checkin_done"
    status = api.get("/api/v1/me/checkin/").json()
    assert status["checked_today"] and any(day["checked"] for day in status["days"])


def test_exchange_and_refusal_for_too_few_points(api, member):
    reward = Reward.objects.create(
        name="10元券", coupon_template=CouponTemplateFactory(), points_price=100, stock=3
    )
    assert [r["name"] for r in api.get("/api/v1/mall/rewards/").json()] == ["10元券"]
    refused = api.post(f"/api/v1/mall/rewards/{reward.pk}/exchange/")
    assert refused.status_code == 400 and refused.json()["code"] == "points_insufficient"
    points_services.points_staff_adjust(user=member, delta=100, staff=None, note="测试")
    done = api.post(f"/api/v1/mall/rewards/{reward.pk}/exchange/")
    assert done.status_code == 201 and done.json()["coupon"]["code"]
    assert api.get("/api/v1/me/points/expiry/").json() == []  # all spent


def test_promotions_are_public():
    Promotion.objects.create(name="满300减30", threshold=Decimal("300"), amount=Decimal("30"))
    body = APIClient().get("/api/v1/promotions/").json()
    assert body[0]["label"] == "满300减30"


def test_guests_cannot_check_in():
    assert APIClient().post("/api/v1/me/checkin/").status_code == 401
