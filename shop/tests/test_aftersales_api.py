"""The API offers the member's side of fulfilment and after-sales: parcels, receipt, return requests."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from shop.models import AfterSale
from shop.services.aftersales import aftersale_decide
from shop.services.fulfilment import shipment_create
from shop.tests.factories import ProductFactory, UserFactory
from shop.tests.test_aftersales import line_of, paid_order

pytestmark = pytest.mark.django_db


def test_member_sees_parcels_confirms_receipt_and_asks_for_a_return_over_the_api():
    product = ProductFactory(price=Decimal("40.00"), stock=5)
    user = UserFactory()
    order = paid_order(user, [(product, 2)])
    api = APIClient()
    api.force_authenticate(user)
    base = f"/api/v1/orders/{order.number}"
    # before shipping: only a refund may be asked for; nothing to confirm
    body = api.get(f"{base}/fulfilment/").json()
    assert body["aftersale_kinds"] == ["refund_only"] and body["can_confirm_receipt"] is False
    assert api.post(f"{base}/receipt/").status_code == 400
    shipment_create(order=order, carrier="京东物流", tracking_number="JD0001")
    body = api.get(f"{base}/fulfilment/").json()
    assert body["shipments"][0]["tracking_number"] == "JD0001" and body["can_confirm_receipt"] is True
    assert body["points_pending"] > 0 and body["points_release_date"]
    response = api.post(f"{base}/receipt/")
    assert response.status_code == 200 and response.json()["status"] == "received"
    second = api.post(f"{base}/receipt/")
    assert second.status_code == 400  # confirmed once: a clear refusal
    line = line_of(order, product)
    too_many = api.post(
        f"{base}/after-sales/",
        {"kind": "return", "reason": "坏了", "lines": [{"line_id": line.pk, "quantity": 3}]},
        format="json",
    )
    assert too_many.status_code == 400 and not AfterSale.objects.exists()
    created = api.post(
        f"{base}/after-sales/",
        {"kind": "return", "reason": "坏了", "lines": [{"line_id": line.pk, "quantity": 1}]},
        format="json",
    )
    assert created.status_code == 201 and created.json()["status"] == "requested"
    after_sale = AfterSale.objects.get()
    aftersale_decide(after_sale=after_sale, approve=False, by=None, note="无质量问题")
    listed = api.get(f"{base}/after-sales/").json()
    assert listed[0]["status"] == "rejected" and listed[0]["staff_note"] == "无质量问题"
    # someone else's order looks like no order
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get(f"{base}/fulfilment/").status_code == 404
    assert stranger.post(f"{base}/after-sales/", {}, format="json").status_code == 404
