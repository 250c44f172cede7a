"""Coupons: checking against a cart with reasons, issuing limits, guessing guard, offers, checkout."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.errors import DomainError
from members.models import Coupon, CouponRedemption, CouponTemplate, PointsAccount, PointsEntry, Profile
from members.services import checkout_hooks
from members.services import coupons as coupon_services
from members.services import points as points_services
from members.tests.factories import (
    CategoryFactory,
    CouponFactory,
    CouponTemplateFactory,
    OrderFactory,
    ProductFactory,
    TierFactory,
    UserFactory,
    cart_lines,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def quote(user, lines, **kwargs):
    subtotal = sum(total for _p, _q, total in lines)
    return checkout_hooks.checkout_discounts_quote(user=user, lines=lines, subtotal=subtotal, **kwargs)


def test_public_code_gives_its_discount():
    CouponTemplateFactory(code="WELCOME10", amount=Decimal("10"), min_spend=Decimal("50"))
    result = quote(UserFactory(), cart_lines((ProductFactory(), 1)), coupon_code="welcome10")
    assert result.coupon_discount == Decimal("10.00") and result.problems == []


@pytest.mark.parametrize(
    "change, words",
    [
        ({"valid_until": timezone.now() - timedelta(days=1)}, "过期"),
        ({"valid_from": timezone.now() + timedelta(days=1)}, "尚未生效"),
        ({"min_spend": Decimal("500")}, "最低消费"),
    ],
)
def test_coupon_that_does_not_apply_says_why(change, words):
    CouponTemplateFactory(code="NOPE", **change)
    result = quote(UserFactory(), cart_lines((ProductFactory(), 1)), coupon_code="NOPE")
    assert result.coupon_discount == 0
    assert words in result.problems[0]


def test_outside_scope_and_tier_reasons():
    user = UserFactory()
    other_category = CategoryFactory()
    scoped = CouponTemplateFactory(code="SCOPED", scope="categories")
    scoped.categories.add(other_category)
    lines = cart_lines((ProductFactory(), 1))
    assert "没有适用" in quote(user, lines, coupon_code="SCOPED").problems[0]
    gold = TierFactory(code="gold", name="金卡", position=2, min_spend=Decimal("1000"))
    CouponTemplateFactory(code="GOLDONLY", min_tier=gold)
    assert "金卡" in quote(user, lines, coupon_code="GOLDONLY").problems[0]


def test_percent_coupon_is_capped_and_covers_only_its_scope():
    category = CategoryFactory()
    inside, outside = ProductFactory(category=category), ProductFactory()
    template = CouponTemplateFactory(
        code="PCT", kind="percent", amount=Decimal("20"), max_discount=Decimal("30"), scope="categories"
    )
    template.categories.add(category)
    result = quote(UserFactory(), cart_lines((inside, 1), (outside, 5)), coupon_code="PCT")
    assert result.coupon_discount == Decimal("20.00")  # 20% of 100, not of 600
    result = quote(UserFactory(), cart_lines((inside, 3), (outside, 1)), coupon_code="PCT")
    assert result.coupon_discount == Decimal("30.00")  # capped


def test_someone_elses_coupon_is_refused_like_an_unknown_code():
    coupon = CouponFactory()
    stranger = UserFactory()
    result = quote(stranger, cart_lines((ProductFactory(), 1)), coupon_code=coupon.code)
    assert result.coupon_discount == 0 and "无效" in result.problems[0]


def test_too_many_unknown_codes_are_rate_limited():
    user = UserFactory()
    lines = cart_lines((ProductFactory(), 1))
    for attempt in range(10):
        quote(user, lines, coupon_code=f"GUESS{attempt}", client_ip="1.2.3.4")
    CouponTemplateFactory(code="REAL")
    result = quote(user, lines, coupon_code="REAL", client_ip="1.2.3.4")
    assert "次数过多" in result.problems[0]


def test_new_accounts_on_one_address_share_the_address_guess_allowance():
    # given 30 wrong codes typed from one address by accounts that each stay under their own limit
    lines = cart_lines((ProductFactory(), 1))
    for account in range(5):
        user = UserFactory()
        for attempt in range(6):
            quote(user, lines, coupon_code=f"G{account}X{attempt}", client_ip="5.6.7.8")
    CouponTemplateFactory(code="REAL")
    # when a fresh account on that address types a real code, it is refused; elsewhere it works
    assert "次数过多" in quote(UserFactory(), lines, coupon_code="REAL", client_ip="5.6.7.8").problems[0]
    assert quote(UserFactory(), lines, coupon_code="REAL", client_ip="9.9.9.9").coupon_discount > 0


def test_points_are_capped_at_half_the_order_and_by_the_balance():
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=8000, staff=None, note="测试")
    lines = cart_lines((ProductFactory(), 1))  # ¥100
    result = quote(user, lines, points=9000)
    assert result.points_used == 5000 and result.points_discount == Decimal("50.00")
    assert any("积分不足" in p for p in result.problems) and any("50%" in p for p in result.problems)


def test_apply_redeems_coupon_and_points_and_cancel_gives_both_back():
    # given a member with a claimed coupon and 3000 points
    user = UserFactory()
    template = CouponTemplateFactory(is_claimable=True, amount=Decimal("20"), min_spend=Decimal("100"))
    coupon = coupon_services.coupon_claim(user=user, template_id=template.pk)
    points_services.points_staff_adjust(user=user, delta=3000, staff=None, note="测试")
    lines = cart_lines((ProductFactory(), 2))
    order = OrderFactory(user=user, subtotal=Decimal("200.00"))
    # when the order is placed with both
    result = checkout_hooks.checkout_discounts_apply(
        order=order, user=user, lines=lines, coupon_code=coupon.code, points=3000
    )
    # then both are spent
    assert (result.coupon_discount, result.points_used, result.points_discount) == (
        Decimal("20"),
        3000,
        Decimal("30.00"),
    )
    coupon.refresh_from_db()
    assert coupon.status == "used"
    assert PointsAccount.objects.get(user=user).available == 0
    assert CouponTemplate.objects.get(pk=template.pk).redeemed_count == 1
    # when the unpaid order is cancelled (twice)
    checkout_hooks.order_cancelled(order=order)
    checkout_hooks.order_cancelled(order=order)
    coupon.refresh_from_db()
    assert coupon.status == "available"
    assert PointsAccount.objects.get(user=user).available == 3000
    assert CouponTemplate.objects.get(pk=template.pk).redeemed_count == 0
    assert points_services.points_ledger_differences() == []


def test_refused_apply_changes_nothing():
    user = UserFactory()
    expired = CouponFactory(user=user, valid_until=timezone.now() - timedelta(days=1))
    order = OrderFactory(user=user)
    with pytest.raises(DomainError):
        checkout_hooks.checkout_discounts_apply(
            order=order,
            user=user,
            lines=cart_lines((ProductFactory(), 2)),
            coupon_code=expired.code,
            points=0,
        )
    with pytest.raises(DomainError):
        checkout_hooks.checkout_discounts_apply(
            order=order, user=user, lines=cart_lines((ProductFactory(), 2)), points=999
        )
    assert not CouponRedemption.objects.exists() and not PointsEntry.objects.filter(reason="redeem").exists()


def test_non_stackable_coupon_refuses_points():
    user = UserFactory()
    points_services.points_staff_adjust(user=user, delta=500, staff=None, note="测试")
    CouponTemplateFactory(code="SOLO", stackable_with_points=False)
    result = quote(user, cart_lines((ProductFactory(), 1)), coupon_code="SOLO", points=500)
    assert result.coupon_discount == Decimal("10") and result.points_used == 0
    assert "不能与积分" in result.problems[0]


def test_public_code_respects_per_member_limit_and_total_quantity():
    template = CouponTemplateFactory(code="ONCE", per_member_limit=1, total_quantity=2)
    user = UserFactory()
    lines = cart_lines((ProductFactory(), 1))
    checkout_hooks.checkout_discounts_apply(
        order=OrderFactory(user=user), user=user, lines=lines, coupon_code="ONCE"
    )
    with pytest.raises(DomainError):
        checkout_hooks.checkout_discounts_apply(
            order=OrderFactory(user=user), user=user, lines=lines, coupon_code="ONCE"
        )
    other = UserFactory()
    checkout_hooks.checkout_discounts_apply(
        order=OrderFactory(user=other), user=other, lines=lines, coupon_code="ONCE"
    )
    third = UserFactory()
    assert "领完" in quote(third, lines, coupon_code="ONCE").problems[0]
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 2


def test_claim_centre_limits():
    template = CouponTemplateFactory(is_claimable=True, per_member_limit=1)
    user = UserFactory()
    coupon_services.coupon_claim(user=user, template_id=template.pk)
    with pytest.raises(DomainError):
        coupon_services.coupon_claim(user=user, template_id=template.pk)
    not_claimable = CouponTemplateFactory()
    with pytest.raises(DomainError):
        coupon_services.coupon_claim(user=user, template_id=not_claimable.pk)


def test_personal_offer_is_capped_per_month_and_respects_opt_out():
    category = CategoryFactory()
    template = CouponTemplateFactory(is_personalised=True, scope="categories", per_member_limit=10)
    template.categories.add(category)
    user = UserFactory()
    now = timezone.now()
    assert coupon_services.personal_offer_issue(user=user, category=category, now=now).template == template
    # same day again: once a day
    assert coupon_services.personal_offer_issue(user=user, category=category, now=now) is None
    assert (
        coupon_services.personal_offer_issue(user=user, category=category, now=now + timedelta(minutes=1))
        is None
    )
    opted_out = UserFactory()
    Profile.objects.filter(user=opted_out).update(personalization_enabled=False)
    assert coupon_services.personal_offer_issue(user=opted_out, category=category) is None


def test_segment_issue_and_birthday_gift_are_idempotent():
    gold = TierFactory(code="gold", position=2)
    template = CouponTemplateFactory(per_member_limit=5)
    in_gold, elsewhere = UserFactory(), UserFactory()
    PointsAccount.objects.create(user=in_gold, tier=gold)
    PointsAccount.objects.create(user=elsewhere)
    staff = UserFactory(is_staff=True)
    assert coupon_services.coupons_issue_to_segment(
        template=template, segment="tier", tier=gold, staff=staff
    ) == (1, 0)
    assert Coupon.objects.get(user=in_gold).issued_by == staff
    birthday = CouponTemplateFactory(is_birthday_gift=True)
    today = timezone.localdate()
    Profile.objects.filter(user=elsewhere).update(birth_date=today.replace(year=1990))
    assert coupon_services.coupons_birthday_issue(today=today) == 1
    assert coupon_services.coupons_birthday_issue(today=today) == 0
    assert Coupon.objects.filter(template=birthday, user=elsewhere).count() == 1
