"""Tier benefits: 会员价 applied at checkout and shown on product pages, birthday-month points, the table."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import PointsAccount, Profile, Promotion
from members.services import checkout_hooks
from members.services.campaigns import order_points_preview
from members.tests.factories import (
    CategoryFactory,
    CouponFactory,
    CouponTemplateFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    TierFactory,
    UserFactory,
    cart_lines,
)

pytestmark = pytest.mark.django_db
D = Decimal


def member_at(tier):
    user = UserFactory()
    PointsAccount.objects.update_or_create(user=user, defaults={"tier": tier})
    return user


def test_member_price_comes_off_its_categories_first_and_all_together_never_exceed_the_subtotal():
    shoes = CategoryFactory()
    gold = TierFactory(name="金卡", member_price_percent=90)
    gold.member_price_categories.set([shoes])
    user = member_at(gold)
    lines = cart_lines((ProductFactory(category=shoes), 1), (ProductFactory(), 1))
    quote = checkout_hooks.checkout_discounts_quote(user=user, lines=lines, subtotal=D("200"))
    assert quote.member_price_discount == D("10.00") and quote.coupon_discount == D("10.00")
    Promotion.objects.create(name="满100减95", threshold=D("100"), amount=D("95"))
    CouponFactory(user=user, template=CouponTemplateFactory(amount=D("150")))
    quote = checkout_hooks.checkout_discounts_quote(user=user, lines=lines, subtotal=D("200"))
    assert quote.coupon_discount == D("200") and quote.coupon_amount == D("95")


def test_product_page_shows_member_prices(client):
    TierFactory(name="银卡", member_price_percent=95)
    product = ProductFactory(price=D("100.00"))
    body = client.get(product.get_absolute_url()).content.decode()
    assert "会员价" in body and "银卡" in body and "95.00" in body


def test_birthday_month_multiplies_the_points():
    tier = TierFactory(birthday_multiplier=D("2"))
    user = member_at(tier)
    Profile.objects.update_or_create(
        user=user, defaults={"birth_date": date(1990, timezone.localtime().month, 1)}
    )
    order = OrderFactory(user=user, subtotal=D("100"), total=D("100"))
    OrderLineFactory(order=order, line_total=D("100"))
    preview = order_points_preview(order=order)
    assert preview.multiplier == 2 and any("生日月" in reason for reason in preview.reasons)


def test_benefits_page_shows_each_tier_and_the_next(client):
    TierFactory(name="普通", position=0, min_spend=D("0"))
    TierFactory(name="金卡", position=1, min_spend=D("1000"), member_price_percent=90)
    CouponTemplateFactory(
        name="金卡专享券", min_tier=TierFactory(code="gold2", name="钻石", position=2, min_spend=D("5000"))
    )
    client.force_login(UserFactory())
    body = client.get(reverse("members:benefits")).content.decode()
    assert "原价的 90%" in body and "金卡专享券" in body and "下一级" in body
