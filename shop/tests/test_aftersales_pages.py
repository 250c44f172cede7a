"""The journey in the browser: staff ship in the admin, the member sees the parcel, confirms receipt,
asks to return one line with a photo, staff approve and receive it, the page shows the refund and points."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.models import PointsAccount
from shop.models import AfterSale, Order, Refund, Shipment
from shop.services.fulfilment import orders_complete_due
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory, image_bytes
from shop.tests.test_aftersales import line_of, paid_order

pytestmark = pytest.mark.django_db


def test_ship_see_confirm_return_and_refund_through_the_pages():
    a, b = ProductFactory(price=Decimal("100.00"), stock=5), ProductFactory(price=Decimal("60.00"), stock=5)
    user = UserFactory()
    order = paid_order(user, [(a, 1), (b, 1)])
    member, staff = Client(), Client()
    member.force_login(user)
    staff.force_login(StaffFactory())

    # staff ship from the order's admin page with a carrier and tracking number
    change = staff.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    assert reverse("admin:shop_order_ship", args=[order.pk]) in change
    ship_url = reverse("admin:shop_order_ship", args=[order.pk])
    assert staff.get(ship_url).status_code == 200
    response = staff.post(ship_url, {"carrier": "顺丰速运", "tracking_number": "SF100200300"})
    assert response.status_code == 302
    assert Shipment.objects.get(order=order).tracking_number == "SF100200300"

    # the member sees the parcel and the date their points arrive, and confirms receipt
    page = member.get(order.get_absolute_url()).content.decode()
    assert "SF100200300" in page and "顺丰速运" in page and "确认收货" in page
    assert "积分将于" in page
    member.post(reverse("shop:order_receipt_confirm", args=[order.number]))
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    again = member.post(reverse("shop:order_receipt_confirm", args=[order.number]), follow=True)
    assert list(again.context["messages"])  # refused with a message

    # and asks to return product a with a photo
    form_url = reverse("shop:aftersale_new", args=[order.number])
    assert member.get(form_url).status_code == 200
    too_many = member.post(
        form_url, {"kind": "return", "reason": "尺码不合适", f"qty_{line_of(order, a).pk}": "2"}
    )
    assert too_many.status_code == 400 and not AfterSale.objects.exists()
    photo = SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")
    response = member.post(
        form_url,
        {"kind": "return", "reason": "尺码不合适", f"qty_{line_of(order, a).pk}": "1", "photos": [photo]},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    after_sale = AfterSale.objects.get()
    assert after_sale.photos.count() == 1

    # staff approve, then receive the parcel: the line is refunded
    process = reverse("admin:shop_aftersale_process", args=[after_sale.pk])
    assert staff.get(process).status_code == 200
    staff.post(process, {"step": "approve", "note": "同意，请寄回"})
    staff.post(process, {"step": "receive", "note": "已签收"})
    after_sale.refresh_from_db()
    assert after_sale.status == AfterSale.Status.REFUNDED
    refund = Refund.objects.get()
    assert refund.amount == Decimal("100.00")
    page = member.get(order.get_absolute_url()).content.decode()
    assert after_sale.number in page and "100.00" in page and "退款扣回" in page
    assert staff.get(reverse("admin:shop_aftersale_change", args=[after_sale.pk])).status_code == 200
    assert staff.get(reverse("admin:shop_aftersale_changelist")).status_code == 200

    # the rest of the points arrive when the window closes, with no staff action
    orders_complete_due(now=timezone.now() + timedelta(days=8))
    account = PointsAccount.objects.get(user=user)
    assert account.pending == 0 and account.available > 0


def test_staff_full_refund_from_the_admin_goes_through_the_provider():
    product = ProductFactory(price=Decimal("70.00"), stock=5)
    user = UserFactory()
    order = paid_order(user, [(product, 2)])
    staff = Client()
    staff.force_login(StaffFactory())
    ship_url = reverse("admin:shop_order_ship", args=[order.pk])
    staff.post(ship_url, {"carrier": "EMS", "tracking_number": "E1"})
    staff.post(
        reverse("admin:shop_order_changelist"),
        {"action": "refund", "_selected_action": [order.pk]},
        follow=True,
    )
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    refund = Refund.objects.get(order=order)
    assert refund.whole_order and refund.amount == order.total and refund.provider_reference
    product.refresh_from_db()
    assert product.stock == 5 and PointsAccount.objects.get(user=user).pending == 0
