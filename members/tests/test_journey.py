"""The member journey end to end with the Django test client: sign up to account deletion."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.models import Coupon, CouponTemplate, EarningRules, PointsAccount, Tier, User
from members.services.points import points_ledger_differences, points_release_matured
from members.tests.factories import ProductFactory
from shop.models import Event, Order
from shop.services.orders import order_complete, order_ship

pytestmark = pytest.mark.django_db
EMAIL, PASSWORD = "newbie@example.com", "Tr1cky-Passw0rd!"


def place_order(client, product, *, coupon_code="", points=0):
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 2})
    page = client.get(reverse("shop:checkout"))
    key = page.context["form"].initial["idempotency_key"]
    response = client.post(
        reverse("shop:checkout"),
        {
            "recipient_name": "新用户",
            "phone": "13800138000",
            "province": "上海市",
            "city": "上海市",
            "district": "徐汇区",
            "address_line": "漕溪北路1号",
            "postcode": "200030",
            "shipping_method": "standard",
            "coupon_code": coupon_code,
            "points": points,
            "idempotency_key": key,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    return Order.objects.get(idempotency_key=key), response["Location"]


def pay(client, sandbox_url):
    page = client.get(sandbox_url)
    fields = dict(page.context["outcomes"])["succeeded"]
    response = client.post(reverse("shop:payment_callback"), fields)
    assert response.status_code == 302


def test_member_journey(client):
    # given tiers, rules, a claimable coupon and a product
    Tier.objects.create(code="normal", name="普通会员", position=0, min_spend=Decimal("0"))
    Tier.objects.create(
        code="silver", name="银卡", position=1, min_spend=Decimal("1000"), points_multiplier=Decimal("1.2")
    )
    EarningRules.current()
    template = CouponTemplate.objects.create(
        name="满100减20",
        amount=Decimal("20"),
        min_spend=Decimal("100"),
        is_claimable=True,
        per_member_limit=2,
    )
    product = ProductFactory(price=Decimal("100.00"), stock=20)
    gift = CouponTemplate.objects.create(
        name="新人礼", amount=Decimal("5"), min_spend=Decimal("50"), is_signup_gift=True, valid_days=14
    )

    # sign up, verify the email (the link logs in), profile and signup points exist
    response = client.post(
        reverse("account_signup"), {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    link = re.search(r"/accounts/confirm-email/[-:\w]+/", mail.outbox[0].body).group(0)
    assert client.post(link).status_code == 302
    user = User.objects.get(email=EMAIL)
    assert user.emailaddress_set.get().verified and user.profile
    assert PointsAccount.objects.get(user=user).available == 100
    assert Coupon.objects.get(user=user, template=gift).source == "signup"

    # log out and in again by email
    client.post(reverse("account_logout"))
    assert client.post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD}).status_code == 302

    # claim a coupon and buy with it and 100 points (¥1)
    client.post(reverse("members:coupon_claim", args=[template.pk]))
    coupon = Coupon.objects.get(user=user, template=template)
    order, pay_url = place_order(client, product, coupon_code=coupon.code, points=100)
    assert (order.coupon_discount, order.points_used, order.points_discount) == (
        Decimal("20.00"),
        100,
        Decimal("1.00"),
    )
    assert order.total == Decimal("179.00")
    pay(client, pay_url)
    order.refresh_from_db()
    assert order.status == "paid"

    # points are pending after payment: 179 paid at 1/yuan + first-order bonus 200
    account = PointsAccount.objects.get(user=user)
    assert (account.available, account.pending) == (0, 379)
    assert "379" in client.get(reverse("members:centre")).content.decode()

    # available once the order is completed and its return window has closed
    order_ship(order=order)
    order_complete(order=order)
    assert points_release_matured() == 0
    assert points_release_matured(now=timezone.now() + timedelta(days=8)) == 1
    account.refresh_from_db()
    assert (account.available, account.pending) == (379, 0)

    # tier progress towards 银卡 (¥179 of ¥1000)
    centre = client.get(reverse("members:centre"))
    assert centre.context["progress"]["next"].name == "银卡" and centre.context["progress"]["percent"] == 17

    # a second order with a new coupon and points, cancelled unpaid: both come back
    client.post(reverse("members:coupon_claim", args=[template.pk]))
    second_coupon = Coupon.objects.filter(user=user, template=template, status="available").get()
    second, _url = place_order(client, product, coupon_code=second_coupon.code, points=300)
    second_coupon.refresh_from_db()
    assert second_coupon.status == "used" and PointsAccount.objects.get(user=user).available == 79
    client.post(reverse("shop:order_cancel", args=[second.number]))
    second_coupon.refresh_from_db()
    assert second_coupon.status == "available" and PointsAccount.objects.get(user=user).available == 379
    assert points_ledger_differences() == []

    # download the data, then delete the account after re-authenticating
    data = client.get(reverse("members:data_export")).json()
    assert {o["number"] for o in data["orders"]} == {order.number, second.number}
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("members:account_delete"), {"confirm": "注销"})
    assert response.status_code == 302
    assert not User.objects.filter(email=EMAIL).exists()
    order.refresh_from_db()
    assert order.user_id is None and order.phone == "" and order.recipient_name == "已注销"
    assert not Event.objects.filter(user_id=user.pk).exists()
