"""Promotions and the coupon chosen for you: best coupon pre-selected, stacking rule, never below zero."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from members.models import CouponRedemption, Promotion, PromotionApplication, StackingRules
from members.services import checkout_hooks
from members.services import promotions as promotion_services
from members.tests.factories import (
    CategoryFactory,
    CouponFactory,
    CouponTemplateFactory,
    OrderFactory,
    ProductFactory,
    UserFactory,
    cart_lines,
)

pytestmark = pytest.mark.django_db
D = Decimal


def quote(user, lines, **kwargs):
    subtotal = sum(total for _p, _q, total in lines)
    return checkout_hooks.checkout_discounts_quote(user=user, lines=lines, subtotal=subtotal, **kwargs)


def test_threshold_and_every_threshold_amounts():
    full = Promotion.objects.create(name="满300减30", threshold=D("300"), amount=D("30"))
    every = Promotion.objects.create(
        name="每满100减10",
        kind=Promotion.Kind.EVERY,
        threshold=D("100"),
        amount=D("10"),
        max_discount=D("25"),
    )
    assert promotion_services.promotion_discount_for(full, D("299.99")) == 0
    assert promotion_services.promotion_discount_for(full, D("300")) == D("30")
    assert promotion_services.promotion_discount_for(every, D("199")) == D("10")
    assert promotion_services.promotion_discount_for(every, D("500")) == D("25")  # capped
    assert (full.label, every.label) == ("满300减30", "每满100减10")


def test_cart_hint_says_how_much_more_to_add():
    Promotion.objects.create(name="满300减30", threshold=D("300"), amount=D("30"))
    product = ProductFactory(price=D("275.00"))
    [hint] = promotion_services.promotion_hints(lines=cart_lines((product, 1)))
    assert hint.short == D("25") and hint.message == "再买 ¥25 可减 30"


def test_category_promotion_only_counts_its_category():
    shoes = CategoryFactory()
    promo = Promotion.objects.create(name="鞋满200减20", threshold=D("200"), amount=D("20"))
    promo.categories.set([shoes])
    lines = cart_lines((ProductFactory(category=shoes), 1), (ProductFactory(), 3))
    assert promotion_services.promotion_best(lines=lines) == (None, D("0.00"))
    assert promotion_services.promotions_for_product(product=lines[1][0]) == []


def test_best_held_coupon_is_chosen_and_unusable_ones_say_why():
    user = UserFactory()
    small = CouponFactory(user=user, template=CouponTemplateFactory(amount=D("5")))
    big = CouponFactory(user=user, template=CouponTemplateFactory(amount=D("20"), min_spend=D("100")))
    far = CouponFactory(user=user, template=CouponTemplateFactory(amount=D("50"), min_spend=D("1000")))
    lines = cart_lines((ProductFactory(), 2))
    result = quote(user, lines)
    assert result.coupon_auto and result.coupon_code == big.code and result.coupon_discount == D("20")
    assert result.problems == []
    options = checkout_hooks.checkout_coupon_options(user=user, lines=lines)
    assert [o.coupon for o in options] == [big, small, far]
    assert not options[2].usable and "最低消费" in options[2].problem
    assert quote(user, lines, coupon_code=checkout_hooks.NO_COUPON).coupon_discount == 0
    assert quote(user, lines, coupon_code=small.code).coupon_discount == D("5")


def test_promotion_and_coupon_stack_and_never_exceed_the_subtotal():
    Promotion.objects.create(name="满50减40", threshold=D("50"), amount=D("40"))
    user = UserFactory()
    CouponFactory(user=user, template=CouponTemplateFactory(amount=D("80")))
    lines = cart_lines((ProductFactory(price=D("100.00")), 1))
    result = quote(user, lines, points=100000)
    assert result.promotion_discount == D("40") and result.coupon_amount == D("60")
    assert result.coupon_discount == D("100") and result.points_used == 0


def test_stacking_rule_off_picks_the_bigger_saving():
    StackingRules.objects.update_or_create(pk=1, defaults={"promotion_with_coupon": False})
    Promotion.objects.create(name="满100减30", threshold=D("100"), amount=D("30"))
    user = UserFactory()
    coupon = CouponFactory(user=user, template=CouponTemplateFactory(amount=D("10")))
    lines = cart_lines((ProductFactory(), 2))
    result = quote(user, lines)
    assert (result.promotion_discount, result.coupon_amount, result.coupon) == (D("30"), 0, None)
    typed = quote(user, lines, coupon_code=coupon.code)  # the member's own choice wins
    assert (typed.promotion_discount, typed.coupon_amount) == (0, D("10"))
    assert "不能同时使用" in StackingRules.current().explanation


def test_order_gets_promotion_and_best_coupon_without_typing():
    Promotion.objects.create(name="满150减15", threshold=D("150"), amount=D("15"))
    user = UserFactory()
    coupon = CouponFactory(user=user, template=CouponTemplateFactory(amount=D("20")))
    order = OrderFactory(user=user)
    result = checkout_hooks.checkout_discounts_apply(
        order=order, user=user, lines=cart_lines((ProductFactory(), 2))
    )
    assert result.coupon_discount == D("35")
    assert CouponRedemption.objects.get(order=order).coupon == coupon
    assert PromotionApplication.objects.get(order=order).discount == D("15")


def test_promotion_validation():
    bad = Promotion(
        name="x",
        threshold=D("100"),
        amount=D("100"),
        starts_at=timezone.now(),
        ends_at=timezone.now() - timedelta(hours=1),
    )
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert {"amount", "ends_at"} <= set(error.value.message_dict)
