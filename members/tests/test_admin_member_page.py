"""The staff member page: orders, points, coupons, addresses and tier in one place, masked as the rest of
the admin; and the members CSV export (issue 12, staff work)."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from members.models import PersonalDataAccess
from members.services import points as points_services
from members.tests.factories import AddressFactory, CouponFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "hidden.person@example.com"


def staff_with(*codenames):
    staff = UserFactory(is_staff=True)
    for codename in codenames:
        app, code = codename.split(".")
        staff.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=code))
    return staff


@pytest.fixture
def member():
    member = UserFactory(email=SECRET, username=SECRET, first_name="秘密", last_name="王")
    member.profile.phone = "13712345678"
    member.profile.save()
    AddressFactory(user=member, recipient_name="王秘密", address_line="秘密路 1 号", is_default=True)
    points_services.points_staff_adjust(user=member, delta=120, staff=None, note="客服补偿")
    CouponFactory(user=member, code="GIFT2026")
    for _ in range(12):
        OrderFactory(user=member)
    return member


def overview(client, member):
    response = client.get(reverse("admin:members_user_change", args=[member.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="member-overview"' in html
    return html[html.index('id="member-overview"') :]


def test_member_page_shows_orders_points_coupons_addresses_and_tier(client, member):
    client.force_login(staff_with("members.view_user", "shop.view_order", "members.view_personal_data"))
    html = overview(client, member)
    orders = list(member.orders.order_by("-created_at", "-id"))
    assert "共 12 个" in html
    assert reverse("admin:shop_order_change", args=[orders[0].pk]) in html
    assert orders[9].number in html and orders[10].number not in html  # the latest ten
    assert "120" in html and "客服补偿" in html  # balance and the latest ledger rows
    assert "GIFT2026" in html
    assert "王秘密" in html and "秘密路 1 号" in html and "13900139000" in html
    assert 'id="member-points"' in html
    assert PersonalDataAccess.objects.filter(member=member).exists()


def test_member_page_masks_addresses_for_staff_without_the_permission(client, member):
    client.force_login(staff_with("members.view_user"))
    response = client.get(reverse("admin:members_user_change", args=[member.pk]))
    page = response.content.decode()
    html = overview(client, member)
    assert "hidden.person" not in page
    assert "王秘密" not in page and "秘密路" not in page and "13900139000" not in page
    assert "王***" in html and "139****9000" in html and "浙江省" in html
    assert "已遮盖" in html
    # Without shop.view_order the order numbers show, but not as links to a page they cannot open.
    assert "/admin/shop/order/" not in html
    assert not PersonalDataAccess.objects.exists()


def export(client, *members):
    response = client.post(
        reverse("admin:members_user_changelist"),
        {"action": "export_csv", "_selected_action": [m.pk for m in members]},
    )
    assert response.status_code == 200, response.content[:500]
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_members_csv_is_masked_without_the_permission(client, member):
    client.force_login(staff_with("members.view_user"))
    rows = export(client, member)
    assert rows[0][:2] == ["会员编号", "邮箱"]
    text = str(rows)
    assert str(member.pk) in text and "120" in text
    assert "hidden.person" not in text and "h***@example.com" in text
    assert "13712345678" not in text and "137****5678" in text
    assert "王秘密" not in text and "秘密路" not in text and "王 秘密" not in text
    assert not PersonalDataAccess.objects.exists()


def test_members_csv_unmasked_with_the_permission_is_logged(client, member):
    staff = staff_with("members.view_user", "members.view_personal_data")
    client.force_login(staff)
    text = str(export(client, member))
    assert SECRET in text and "13712345678" in text and "秘密路 1 号" in text and "王 秘密" in text
    access = PersonalDataAccess.objects.get(staff=staff, view__contains="csv export")
    assert access.member_id == member.pk


def test_members_csv_defuses_formulas(client):
    sneaky = UserFactory(email="sneaky@example.com", first_name="=1+1", last_name="")
    client.force_login(staff_with("members.view_user", "members.view_personal_data"))
    rows = export(client, sneaky)
    assert rows[1][rows[0].index("姓名")] == "'=1+1"
