"""Staff work in the admin (issue 12): the audit trail, readable validation, and complete accounts added by staff."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from auditlog.models import LogEntry
from django.urls import reverse

from members.models import CouponTemplate, EarningRules, PointsAccount, Profile, Tier, User
from members.tests.factories import TierFactory, UserFactory
from shop.models import Order, Product
from shop.tests.factories import OrderFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db


def entries_for(obj):
    return LogEntry.objects.get_for_object(obj).order_by("pk")


# --- Audit trail ---------------------------------------------------------------------------------------


def test_bulk_deactivation_is_in_the_trail_with_the_staff_member(client):
    staff = StaffFactory()
    products = [ProductFactory(is_active=True) for _ in range(3)]
    client.force_login(staff)
    client.post(
        reverse("admin:shop_product_changelist"),
        {"action": "deactivate", "_selected_action": [p.pk for p in products]},
    )
    assert not Product.objects.filter(is_active=True).exists()
    for product in products:
        entry = entries_for(product).last()
        assert entry.actor == staff
        assert entry.changes_dict["is_active"] == ["True", "False"]


def test_an_order_state_change_from_the_admin_is_logged_with_its_actor(client):
    staff = StaffFactory()
    order = OrderFactory(status=Order.Status.PAID)
    client.force_login(staff)
    client.post(
        reverse("admin:shop_order_changelist"), {"action": "mark_shipped", "_selected_action": [order.pk]}
    )
    entry = entries_for(order).last()
    assert entry.actor == staff and entry.changes_dict["status"] == ["paid", "shipped"]


def test_a_member_change_is_logged_without_personal_values_or_the_password(client):
    staff = StaffFactory()
    member = UserFactory(email="private.name@example.com", first_name="张")
    member.first_name = "李"
    member.set_password("another-pass-123")
    member.save()
    changes = entries_for(member).last().changes_dict
    assert "password" not in changes
    assert changes["first_name"] == ["***", "***"]
    assert "private.name" not in str(LogEntry.objects.filter(object_pk=str(member.pk)).values_list("changes"))
    client.force_login(staff)
    page = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert page.status_code == 200 and "private.name@example.com" not in page.content.decode()


def test_the_trail_is_read_only_and_not_for_staff_without_its_permission(client):
    product = ProductFactory()
    product.name = "新名字"
    product.save()
    entry = entries_for(product).last()
    client.force_login(StaffFactory())
    assert client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).status_code == 200
    assert (
        client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 403


# --- Validation with readable messages -------------------------------------------------------------------


def coupon_form(**changes):
    data = {
        "name": "满减券",
        "description": "",
        "is_active": "on",
        "kind": "fixed",
        "amount": "10",
        "max_discount": "",
        "min_spend": "100",
        "stackable_with_points": "on",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        "valid_days": "",
        "scope": "all",
        "min_tier": "",
        "total_quantity": "",
        "per_member_limit": "1",
        "code": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"amount": "150"}, "amount", "高于最低消费"),
        ({"kind": "percent", "amount": "120"}, "amount", "折扣百分比不能超过 100"),
        (
            {
                "valid_from_0": "2026-06-02",
                "valid_from_1": "00:00",
                "valid_until_0": "2026-06-01",
                "valid_until_1": "00:00",
            },
            "valid_until",
            "截止时间必须晚于生效时间",
        ),
        ({"scope": "categories"}, "categories", "请至少选择一个分类"),
        ({"scope": "products"}, "products", "请至少选择一个商品"),
        ({"total_quantity": "0"}, "total_quantity", "发放总量不能为 0"),
        ({"max_discount": "-5"}, "max_discount", "最高优惠必须大于 0"),
        ({"min_spend": "-1"}, "min_spend", "最低消费不能为负数"),
    ],
)
def test_a_coupon_template_that_makes_no_sense_gets_a_field_error_not_a_constraint_name(
    client, changes, field, message
):
    client.force_login(StaffFactory())
    page = client.post(reverse("admin:members_coupontemplate_add"), coupon_form(**changes))
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert "constraint" not in page.content.decode().lower()
    assert not CouponTemplate.objects.exists()


def test_a_sensible_coupon_template_saves(client):
    client.force_login(StaffFactory())
    response = client.post(reverse("admin:members_coupontemplate_add"), coupon_form())
    assert response.status_code == 302 and CouponTemplate.objects.count() == 1


def test_earning_rules_refuse_negative_rates_and_zero_expiry():
    rules = EarningRules.current()
    rules.points_per_yuan = Decimal("-1")
    rules.expiry_days = 0
    with pytest.raises(Exception) as raised:
        rules.full_clean()
    assert set(raised.value.message_dict) == {"points_per_yuan", "expiry_days"}
    assert "不能为负数" in raised.value.message_dict["points_per_yuan"][0]


def test_earning_rules_page_shows_the_errors(client):
    rules = EarningRules.current()
    client.force_login(StaffFactory())
    data = {
        "points_per_yuan": "-2",
        "first_order_bonus": "200",
        "review_points": "20",
        "signup_points": "100",
        "return_window_days": "7",
        "expiry_days": "0",
        "redeem_points_per_yuan": "100",
        "redeem_max_share": "0.50",
        "personal_offers_per_month": "2",
    }
    page = client.post(reverse("admin:members_earningrules_change", args=[rules.pk]), data)
    text = page.content.decode()
    assert page.status_code == 200 and "积分有效期至少 1 天" in text and "每消费1元得积分不能为负数" in text


def test_tiers_out_of_order_are_refused_with_the_neighbour_named(client):
    TierFactory(code="silver", name="白银", position=1, min_spend=Decimal("1000"))
    TierFactory(code="gold", name="黄金", position=2, min_spend=Decimal("5000"))
    client.force_login(StaffFactory())
    page = client.post(
        reverse("admin:members_tier_add"),
        {"code": "platinum", "name": "铂金", "position": "3", "min_spend": "3000", "points_multiplier": "2"},
    )
    assert page.status_code == 200
    assert "黄金" in " ".join(page.context["adminform"].form.errors["min_spend"])
    assert not Tier.objects.filter(code="platinum").exists()
    page = client.post(
        reverse("admin:members_tier_add"),
        {"code": "vip", "name": "VIP", "position": "4", "min_spend": "-1", "points_multiplier": "-1"},
    )
    text = page.content.decode()
    assert "消费门槛不能为负数" in text and "积分倍数不能为负数" in text and "tier_min_spend" not in text


# --- Adding a user makes a complete account ------------------------------------------------------------


def test_a_member_added_in_the_admin_can_sign_in_and_has_what_signup_gives(client):
    client.force_login(StaffFactory())
    response = client.post(
        reverse("admin:members_user_add"),
        {
            "email": "new.member@example.com",
            "password1": "Long-enough-9",
            "password2": "Long-enough-9",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member = User.objects.get(email="new.member@example.com")
    assert member.username == "new.member@example.com"
    assert Profile.objects.filter(user=member).exists() and PointsAccount.objects.filter(user=member).exists()
    assert EmailAddress.objects.filter(user=member, email=member.email, verified=True, primary=True).exists()
    client.logout()
    signed_in = client.post(
        reverse("account_login"), {"login": "new.member@example.com", "password": "Long-enough-9"}
    )
    assert signed_in.status_code == 302
    assert client.get("/").wsgi_request.user == member


def test_a_member_who_deletes_their_account_leaves_no_e_mail_or_dangling_actor_in_the_trail(client):
    from auditlog.context import set_actor

    member = UserFactory(email="leaving@example.com")
    member_pk = member.pk
    with set_actor(member):
        member.first_name = "走"
        member.save()
        member.delete()
    assert LogEntry.objects.filter(actor_email="leaving@example.com").count() == 0
    assert LogEntry.objects.filter(
        object_pk=str(member_pk), action=LogEntry.Action.DELETE, actor=None
    ).exists()
