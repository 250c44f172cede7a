"""A shopper's whole journey through the API alone: token, browse, cart, discounts, order, payment,
points, favourites, recommendations and events."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from members.models import CouponTemplate
from members.services.points import points_staff_adjust
from shop.models import Event, Order, Product

from .api_support import PASSWORD, member_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def test_a_shopper_can_do_everything_through_the_api(catalogue, admin_user):
    # given a verified member with 1,000 points and a coupon in the claim centre
    member = member_make()
    points_staff_adjust(user=member, delta=1000, staff=admin_user, note="welcome")
    template = CouponTemplate.objects.create(
        name="满1000减100", amount=Decimal("100.00"), min_spend=Decimal("1000.00"), is_claimable=True
    )
    client = APIClient()

    # the app logs in with email and password and keeps the token
    response = client.post(
        "/api/v1/auth/token/", {"email": member.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    # browse: search, open the product, record the view
    found = client.get("/api/v1/products/", {"q": "手机", "in_stock": "true"}).json()["results"]
    assert [p["slug"] for p in found] == ["x1"]
    phone = client.get("/api/v1/products/x1/").json()
    assert phone["price"] == "1999.00"
    assert (
        client.post("/api/v1/events/", {"kind": "view", "product_id": phone["id"]}, format="json").status_code
        == 201
    )

    # cart: add, change the quantity, add another product and remove it again
    cart = client.post("/api/v1/cart/items/", {"product_id": phone["id"], "quantity": 1}, format="json")
    assert cart.status_code == 201, cart.json()
    cart = client.patch(f"/api/v1/cart/items/{phone['id']}/", {"quantity": 2}, format="json").json()
    assert cart["item_count"] == 2 and cart["subtotal"] == "3998.00"
    pan = catalogue["pan"]
    client.post("/api/v1/cart/items/", {"product_id": pan.pk}, format="json")
    assert client.delete(f"/api/v1/cart/items/{pan.pk}/").status_code == 204

    # claim the coupon, then preview coupon + points (the same reasons as the site's checkout)
    claimable = client.get("/api/v1/coupons/claimable/").json()["results"]
    assert [c["id"] for c in claimable] == [template.pk]
    coupon = client.post(f"/api/v1/coupons/claimable/{template.pk}/claim/").json()
    assert client.get("/api/v1/me/coupons/").json()["results"][0]["code"] == coupon["code"]
    quote = client.post(
        "/api/v1/cart/quote/",
        {"coupon_code": coupon["code"], "points": 500, "shipping_method": "standard"},
        format="json",
    ).json()
    assert quote["problems"] == []
    assert quote["coupon_discount"] == "100.00" and quote["points_discount"] == "5.00"
    assert quote["total"] == "3893.00"  # 3998 - 100 - 5, free shipping over 99
    too_many = client.post("/api/v1/cart/quote/", {"points": 5000}, format="json").json()
    assert too_many["problems"] and too_many["points_used"] == 1000

    # place the order at an address from the address book; a retry returns the same order
    address = client.post(
        "/api/v1/me/addresses/",
        {
            "recipient_name": "王五",
            "phone": "13700137000",
            "province": "北京市",
            "city": "北京市",
            "district": "海淀区",
            "address_line": "中关村大街1号",
        },
        format="json",
    ).json()
    order_request = {
        "address_id": address["id"],
        "shipping_method": "standard",
        "coupon_code": coupon["code"],
        "points": 500,
        "idempotency_key": uuid.uuid4().hex,
    }
    placed = client.post("/api/v1/orders/", order_request, format="json")
    assert placed.status_code == 201, placed.json()
    order = placed.json()
    assert order["total"] == "3893.00" and order["status"] == "pending_payment"
    assert order["recipient_name"] == "王五"
    retried = client.post("/api/v1/orders/", order_request, format="json")
    assert retried.status_code == 200 and retried.json()["number"] == order["number"]
    assert client.get("/api/v1/cart/").json()["lines"] == []
    assert Product.objects.get(slug="x1").stock == 8

    # pay in the sandbox
    paid = client.post(
        f"/api/v1/orders/{order['number']}/sandbox-payment/", {"outcome": "succeeded"}, format="json"
    )
    assert paid.status_code == 200, paid.json()
    assert paid.json()["status"] == "succeeded" and paid.json()["order"]["status"] == "paid"
    assert client.get(f"/api/v1/orders/{order['number']}/").json()["paid_at"]
    assert [o["number"] for o in client.get("/api/v1/orders/").json()["results"]] == [order["number"]]

    # see the points: 500 spent, the purchase's points pending; ledger and tier
    points = client.get("/api/v1/me/points/").json()
    assert points["available"] == 500 and points["pending"] > 0
    ledger = client.get("/api/v1/me/points/ledger/").json()["results"]
    assert {"redeem", "purchase", "staff"} <= {entry["reason"] for entry in ledger}
    assert client.get("/api/v1/me/tier/").status_code == 200

    # favourite a product, recommendations with reasons, click one
    assert client.put(f"/api/v1/me/favourites/{pan.pk}/").status_code == 200
    assert [f["product"]["slug"] for f in client.get("/api/v1/me/favourites/").json()["results"]] == ["pan"]
    for_me = client.get("/api/v1/recommendations/for-me/").json()
    assert for_me["personalised"] is True
    assert all(item["reason"] for item in for_me["items"])
    click = client.post(
        "/api/v1/events/",
        {"kind": "rec_click", "product_id": pan.pk, "context": {"block": "home", "model": "popular"}},
        format="json",
    )
    assert click.status_code == 201
    assert Event.objects.filter(user=member, kind=Event.Kind.REC_CLICK, product=pan).exists()
    assert Event.objects.filter(user=member, kind=Event.Kind.PURCHASE).exists()

    # cancel is refused once paid, with the reason
    refused = client.post(f"/api/v1/orders/{order['number']}/cancel/")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_transition"
    assert Order.objects.get(number=order["number"]).status == Order.Status.PAID


def test_cancelling_an_unpaid_order_gives_stock_and_points_back(catalogue, admin_user):
    member = member_make()
    points_staff_adjust(user=member, delta=300, staff=admin_user, note="gift")
    client = APIClient()
    client.force_authenticate(member)
    client.post("/api/v1/cart/items/", {"product_id": catalogue["pan"].pk, "quantity": 3}, format="json")
    order = client.post(
        "/api/v1/orders/",
        {
            "address": {
                "recipient_name": "赵六",
                "phone": "13600136000",
                "province": "广东省",
                "city": "深圳市",
                "address_line": "深南大道1号",
            },
            "points": 50,
            "idempotency_key": uuid.uuid4().hex,
        },
        format="json",
    ).json()
    assert Product.objects.get(pk=catalogue["pan"].pk).stock == 47

    response = client.post(f"/api/v1/orders/{order['number']}/cancel/")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Product.objects.get(pk=catalogue["pan"].pk).stock == 50
    assert client.get("/api/v1/me/points/").json()["available"] == 300
