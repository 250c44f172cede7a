"""Staff admin: masking without the permission, points adjustments with an audit row, coupon counts, bulk issue."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from members.models import Coupon, PointsAccount, PointsEntry
from members.services import points as points_services
from members.tests.factories import (
    AddressFactory,
    CouponFactory,
    CouponTemplateFactory,
    OrderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def staff_with(*codenames):
    staff = UserFactory(is_staff=True)
    for codename in codenames:
        app, code = codename.split(".")
        staff.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=code))
    return staff


def test_member_and_order_admin_mask_personal_data_without_permission(client):
    member = UserFactory(email="secret.person@example.com")
    OrderFactory(user=member, phone="13912345678", recipient_name="王秘密")
    order = member.orders.get()
    client.force_login(staff_with("members.view_user", "shop.view_order", "shop.change_order"))
    body = client.get(reverse("admin:members_user_changelist")).content.decode()
    assert "secret.person@example.com" not in body and "s***@example.com" in body
    body = client.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    assert "13912345678" not in body and "139****5678" in body and "王秘密" not in body


def test_fulfilment_staff_with_permission_see_personal_data(client):
    member = UserFactory(email="visible@example.com")
    order = OrderFactory(user=member, phone="13912345678")
    client.force_login(staff_with("members.view_user", "shop.view_order", "members.view_personal_data"))
    assert "visible@example.com" in client.get(reverse("admin:members_user_changelist")).content.decode()
    assert "13912345678" in client.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()


def test_address_admin_masks(client):
    AddressFactory(phone="13555556666")
    client.force_login(staff_with("members.view_address"))
    assert "13555556666" not in client.get(reverse("admin:members_address_changelist")).content.decode()


def test_staff_adjusts_points_with_reason_and_audit(client):
    member = UserFactory()
    staff = staff_with("members.view_pointsaccount", "members.add_pointsentry")
    client.force_login(staff)
    url = reverse("admin:members_points_adjust", args=[member.pk])
    assert client.post(url, {"delta": 50, "note": "客诉补偿"}).status_code == 302
    entry = PointsEntry.objects.get(user=member)
    assert (entry.available_delta, entry.staff, entry.note, entry.reason) == (50, staff, "客诉补偿", "staff")
    # taking more than there is: a form error, nothing written
    response = client.post(url, {"delta": -80, "note": "扣减"})
    assert response.status_code == 200 and "积分不足" in response.content.decode()
    assert PointsAccount.objects.get(user=member).available == 50


def test_ledger_is_read_only_in_admin(client):
    member = UserFactory()
    entry = points_services.points_staff_adjust(user=member, delta=5, staff=None, note="x")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:members_pointsentry_changelist")).status_code == 200
    assert client.post(reverse("admin:members_pointsentry_delete", args=[entry.pk])).status_code == 403


def test_coupon_template_list_counts_without_a_query_per_row(client, django_assert_max_num_queries):
    for _i in range(5):
        template = CouponTemplateFactory()
        CouponFactory(template=template)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:members_coupontemplate_changelist"))
    assert response.status_code == 200


def test_bulk_issue_to_a_segment_records_the_staff_member(client):
    template = CouponTemplateFactory(total_quantity=Decimal("100"))
    members = [UserFactory(), UserFactory()]
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(reverse("admin:members_coupon_issue", args=[template.pk]), {"segment": "all"})
    assert response.status_code == 302
    assert set(Coupon.objects.filter(template=template).values_list("user", flat=True)) == {
        m.pk for m in members
    }
    assert set(Coupon.objects.values_list("issued_by", flat=True)) == {staff.pk}
