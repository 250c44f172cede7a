"""The staff order page: timeline, internal notes, state buttons, "view on site", and the CSV export
(issue 12, staff work)."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from members.models import PersonalDataAccess
from members.roles import WAREHOUSE
from shop.models import Order, OrderNote, OrderStatusChange, Shipment
from shop.services.fulfilment import shipment_create
from shop.services.orders import order_mark_paid
from shop.tests.factories import OrderFactory, OrderLineFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff_with(*codenames):
    staff = UserFactory(is_staff=True)
    for codename in codenames:
        app, code = codename.split(".")
        staff.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=code))
    return staff


def change_url(order):
    return reverse("admin:shop_order_change", args=[order.pk])


def page(client, order):
    response = client.get(change_url(order))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def order():
    order = OrderLineFactory(order__status=Order.Status.PENDING_PAYMENT).order
    return order_mark_paid(order=order, note="paid at the till")


def test_timeline_lists_status_changes_payments_shipments_and_notes_with_who(client, order):
    staff = StaffFactory()
    client.force_login(staff)
    shipment_create(order=order, carrier="顺丰速运", tracking_number="SF123", line_ids=None, by=staff)
    client.post(reverse("admin:shop_order_note", args=[order.pk]), {"text": "客户来电要求周末送达"})
    html = page(client, order)
    assert 'id="order-timeline"' in html
    html = html[html.index('id="order-timeline"') :]
    assert "paid at the till" in html
    assert "SF123" in html
    assert "客户来电要求周末送达" in html
    assert html.index("paid at the till") < html.index("SF123") < html.index("客户来电要求周末送达")
    assert OrderNote.objects.get(order=order).author == staff


def test_internal_notes_never_reach_the_member(client, order):
    OrderNote.objects.create(order=order, author=StaffFactory(), text="内部：疑似黄牛")
    client.force_login(order.user)
    response = client.get(reverse("shop:order_detail", args=[order.number]))
    assert response.status_code == 200
    assert "疑似黄牛" not in response.content.decode()


def test_empty_note_is_refused_with_a_message(client, order):
    client.force_login(StaffFactory())
    response = client.post(reverse("admin:shop_order_note", args=[order.pk]), {"text": "  "}, follow=True)
    assert "备注不能为空" in response.content.decode()
    assert not OrderNote.objects.exists()


def test_staff_who_may_only_view_cannot_add_notes_or_press_buttons(client, order):
    client.force_login(staff_with("shop.view_order"))
    html = page(client, order)
    assert "order-note-form" not in html and "整单退款" not in html
    assert client.post(reverse("admin:shop_order_note", args=[order.pk]), {"text": "x"}).status_code == 403
    refund = reverse("admin:shop_order_state", args=[order.pk, "refund"])
    assert client.post(refund).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_paid_order_offers_ship_page_and_refund_not_cancel(client, order):
    client.force_login(StaffFactory())
    html = page(client, order)
    assert reverse("admin:shop_order_ship", args=[order.pk]) in html
    assert reverse("admin:shop_order_state", args=[order.pk, "refund"]) in html
    assert reverse("admin:shop_order_state", args=[order.pk, "cancel"]) not in html


def test_warehouse_sees_only_the_ship_button(client, order):
    call_command("staff_roles_sync", verbosity=0)
    warehouse = UserFactory(is_staff=True)
    warehouse.groups.add(Group.objects.get(name=WAREHOUSE))
    client.force_login(warehouse)
    html = page(client, order)
    assert reverse("admin:shop_order_ship", args=[order.pk]) in html
    assert reverse("admin:shop_order_state", args=[order.pk, "refund"]) not in html


def test_state_buttons_go_through_the_services_and_record_who(client):
    staff = StaffFactory()
    client.force_login(staff)
    unpaid = OrderLineFactory(order__status=Order.Status.PENDING_PAYMENT).order
    response = client.post(
        reverse("admin:shop_order_state", args=[unpaid.pk, "cancel"]), {"note": "客户要求"}
    )
    assert response.status_code == 302
    unpaid.refresh_from_db()
    assert unpaid.status == Order.Status.CANCELLED
    change = OrderStatusChange.objects.filter(order=unpaid).latest("id")
    assert change.changed_by == staff and change.note == "客户要求"

    shipped = OrderLineFactory(order__status=Order.Status.SHIPPED).order
    client.post(reverse("admin:shop_order_state", args=[shipped.pk, "complete"]))
    shipped.refresh_from_db()
    assert shipped.status == Order.Status.COMPLETED

    paid = OrderLineFactory(order__status=Order.Status.PAID).order
    client.post(reverse("admin:shop_order_state", args=[paid.pk, "refund"]))
    paid.refresh_from_db()
    assert paid.status == Order.Status.REFUNDED


def test_a_refused_state_change_says_why(client, order):
    client.force_login(StaffFactory())
    response = client.post(reverse("admin:shop_order_state", args=[order.pk, "cancel"]), follow=True)
    assert "不能执行此操作" in response.content.decode() or "不能" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_state_changes_need_post(client, order):
    client.force_login(StaffFactory())
    assert client.get(reverse("admin:shop_order_state", args=[order.pk, "refund"])).status_code == 405


def test_view_on_site_opens_a_read_only_staff_view_that_masks(client, order):
    client.force_login(staff_with("shop.view_order"))
    html = page(client, order)
    member_view = reverse("admin:shop_order_member_view", args=[order.pk])
    assert member_view in html  # the "view on site" button
    response = client.get(member_view)
    assert response.status_code == 200
    body = response.content.decode()
    assert order.number in body and order.lines.first().product_name in body
    assert "13800138000" not in body and "138****8000" in body
    assert "西湖区文三路" not in body
    assert not PersonalDataAccess.objects.exists()


def test_view_on_site_unmasked_for_permitted_staff_is_logged(client, order):
    staff = staff_with("shop.view_order", "members.view_personal_data")
    client.force_login(staff)
    body = client.get(reverse("admin:shop_order_member_view", args=[order.pk])).content.decode()
    assert "13800138000" in body
    assert PersonalDataAccess.objects.filter(staff=staff, member=order.user).exists()


def test_member_view_needs_order_view_permission(client, order):
    client.force_login(staff_with("shop.view_product"))
    response = client.get(reverse("admin:shop_order_member_view", args=[order.pk]))
    assert response.status_code == 403


def export(client, *orders):
    response = client.post(
        reverse("admin:shop_order_changelist"),
        {"action": "export_csv", "_selected_action": [o.pk for o in orders]},
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens Chinese right
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_is_masked_without_the_permission(client):
    order = OrderFactory(user=UserFactory(email="secret.buyer@example.com"), recipient_name="王秘密")
    client.force_login(staff_with("shop.view_order", "shop.change_order"))
    rows = export(client, order)
    assert rows[0][0] == "订单号"
    text = "\n".join(",".join(row) for row in rows)
    assert order.number in text
    assert "secret.buyer" not in text and "s***@example.com" in text
    assert "王秘密" not in text and "13800138000" not in text and "138****8000" in text
    assert not PersonalDataAccess.objects.exists()


def test_csv_export_unmasked_with_the_permission_is_logged(client):
    order = OrderFactory(user=UserFactory(email="secret.buyer@example.com"), recipient_name="王秘密")
    staff = staff_with("shop.view_order", "shop.change_order", "members.view_personal_data")
    client.force_login(staff)
    text = str(export(client, order))
    assert "secret.buyer@example.com" in text and "王秘密" in text and "13800138000" in text
    access = PersonalDataAccess.objects.get(staff=staff)
    assert access.member_id == order.user_id and "csv export" in access.view


def test_csv_export_defuses_formulas(client):
    order = OrderFactory(recipient_name='=HYPERLINK("http://evil")', address_line="+cmd|' /C calc'!A0")
    client.force_login(staff_with("shop.view_order", "shop.change_order", "members.view_personal_data"))
    rows = export(client, order)
    index = rows[0].index("收货人")
    assert rows[1][index] == '\'=HYPERLINK("http://evil")'
    assert rows[1][rows[0].index("详细地址")].startswith("'+cmd")


def test_shipment_model_unchanged_by_page(client, order):
    # The ship button leads to the existing waybill page, which still creates the parcel.
    staff = StaffFactory()
    client.force_login(staff)
    response = client.post(
        reverse("admin:shop_order_ship", args=[order.pk]), {"carrier": "EMS", "tracking_number": "E1"}
    )
    assert response.status_code == 302
    assert Shipment.objects.filter(order=order, tracking_number="E1").exists()


def test_view_only_staff_cannot_export_orders(client):
    order = OrderFactory()
    client.force_login(staff_with("shop.view_order"))
    response = client.post(
        reverse("admin:shop_order_changelist"), {"action": "export_csv", "_selected_action": [order.pk]}
    )
    assert not response["Content-Type"].startswith("text/csv")
