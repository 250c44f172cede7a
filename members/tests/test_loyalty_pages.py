"""Issue 15 through the pages: check in a week, exchange points for a coupon, and check out with a
promotion and the best coupon applied without typing anything."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import CheckinRules, CouponTemplate, PointsAccount, Promotion, Reward
from members.services import points as points_services
from members.services.checkout_hooks import NO_COUPON
from members.tests.factories import CouponFactory, CouponTemplateFactory, ProductFactory, UserFactory
from shop.models import Order

pytestmark = pytest.mark.django_db
D = Decimal
ADDRESS = {
    "recipient_name": "新用户",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "district": "徐汇区",
    "address_line": "漕溪北路1号",
    "postcode": "200030",
    "shipping_method": "standard",
}


@pytest.fixture
def member(client):
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.mark.parametrize("name", ["members:checkin", "members:mall"])
def test_pages_need_login_and_render(client, name):
    assert client.get(reverse(name)).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse(name)).status_code == 200


def test_a_week_of_check_ins_then_an_exchange_then_checkout_without_typing(client, member, monkeypatch):
    # given: day-7 bonus, a coupon in the mall, a 满减 promotion and a product
    CheckinRules.objects.update_or_create(pk=1, defaults={"daily_points": 10, "streak_bonuses": "7:100"})
    template = CouponTemplate.objects.create(
        name="兑换券", amount=D("30"), min_spend=D("150"), per_member_limit=3
    )
    reward = Reward.objects.create(name="30元券", coupon_template=template, points_price=150, stock=5)
    Promotion.objects.create(name="满200减20", threshold=D("200"), amount=D("20"))
    product = ProductFactory(price=D("100.00"), stock=20)

    # seven days in a row, the clock moved a day at a time
    start = datetime(2026, 5, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for day in range(7):
        monkeypatch.setattr(timezone, "now", lambda day=day: start + timedelta(days=day))
        response = client.post(reverse("members:checkin"))
        assert response.status_code == 302
    assert client.post(reverse("members:checkin")).status_code == 302  # a second tap: refused, no points
    page = client.get(reverse("members:checkin"))
    assert page.context["status"].streak == 7 and "今天已签到" in page.content.decode()
    assert PointsAccount.objects.get(user=member).available == 7 * 10 + 100
    monkeypatch.undo()

    # exchange 150 points for the coupon
    client.post(reverse("members:mall"), {"reward": reward.pk})
    assert PointsAccount.objects.get(user=member).available == 20
    coupon = member.coupons.get(template=template)
    CouponFactory(user=member, template=CouponTemplateFactory(amount=D("5")))  # a smaller one also held

    # the cart says what the promotion needs; the product page names it
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})
    assert "再买 ¥100 可减 20" in client.get(reverse("shop:cart")).content.decode()
    assert "满200减20" in client.get(product.get_absolute_url()).content.decode()
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})

    # checkout: the best coupon is pre-selected, the promotion applied, the rule explained
    page = client.get(reverse("shop:checkout"))
    html = page.content.decode()
    assert f'value="{coupon.code}" data-coupon-pick checked' in html
    assert "叠加规则" in html and "已为你选好最划算的一张" in html
    assert page.context["summary"].total == D("150.00")  # 200 − 20 − 30

    # place it without typing anything
    key = page.context["form"].initial["idempotency_key"]
    response = client.post(reverse("shop:checkout"), {**ADDRESS, "points": 0, "idempotency_key": key})
    assert response.status_code == 302
    order = Order.objects.get(idempotency_key=key)
    assert order.coupon_discount == D("50.00") and order.total == D("150.00")
    assert order.coupon_redemptions.get().coupon == coupon
    assert order.promotion_application.discount == D("20.00")
    assert points_services.points_ledger_differences() == []


def test_opting_out_of_the_chosen_coupon(client, member):
    CouponFactory(user=member, template=CouponTemplateFactory(amount=D("5")))
    product = ProductFactory()
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})
    page = client.post(reverse("shop:checkout"), {**ADDRESS, "coupon_code": NO_COUPON, "preview": "1"})
    assert page.context["summary"].coupon_discount == 0


def test_points_page_shows_what_expires_when(client, member):
    points_services.points_staff_adjust(user=member, delta=300, staff=None, note="测试")
    page = client.get(reverse("members:points"))
    [(day, amount)] = page.context["expiry_schedule"]
    assert amount == 300 and "积分到期时间" in page.content.decode()
