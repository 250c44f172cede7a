"""Member-owned objects, web and API: another member gets 404 (or sees none), a guest must log in."""

import json
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from e2e import seed
from members.models import Address, Coupon, Favourite, PointsAccount, PointsEntry
from shop.models import Order, OrderLine, Payment, Review

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_objects():
    """Everything a member can own, all belonging to `owner`."""
    products = seed.catalogue()
    owner = seed.member("owner@example.com")
    order = Order.objects.create(
        number="E2EOWNED0001",
        user=owner,
        idempotency_key="owned-1",
        subtotal=Decimal("88.00"),
        total=Decimal("98.00"),
        shipping_fee=Decimal("10.00"),
        shipping_method="standard",
        recipient_name="业主",
        phone="13700000000",
        province="北京市",
        city="北京市",
        address_line="长安街 1 号",
    )
    OrderLine.objects.create(
        order=order,
        product=products["puer"],
        product_name="云南普洱熟茶",
        sku="E2E-001",
        unit_price=Decimal("88.00"),
        quantity=1,
        line_total=Decimal("88.00"),
    )
    payment = Payment.objects.create(order=order, reference="PAYOWNED0001", amount=order.total)
    address = Address.objects.create(
        user=owner,
        recipient_name="业主",
        phone="13700000000",
        province="北京市",
        city="北京市",
        address_line="长安街 1 号",
        is_default=True,
    )
    coupon = Coupon.objects.create(
        template=seed.coupon_template(), user=owner, code="OWNEDCOUPON1", source=Coupon.Source.STAFF
    )
    PointsAccount.objects.create(user=owner, available=300)
    PointsEntry.objects.create(
        user=owner,
        reason=PointsEntry.Reason.STAFF,
        available_delta=300,
        available_after=300,
        pending_after=0,
        note="owner-only-note",
    )
    favourite = Favourite.objects.create(user=owner, product=products["speaker"])
    review = Review.objects.create(user=owner, product=products["puer"], rating=4, title="业主的评价")
    return {
        "owner": owner,
        "order": order,
        "payment": payment,
        "address": address,
        "coupon": coupon,
        "favourite": favourite,
        "review": review,
        "products": products,
    }


def _web_urls(objects):
    order, address = objects["order"], objects["address"]
    return {
        "get": [
            f"/orders/{order.number}/",
            f"/orders/{order.number}/paid/",
            f"/pay/sandbox/{objects['payment'].reference}/",
            f"/member/addresses/{address.pk}/",
        ],
        "post": [
            f"/orders/{order.number}/cancel/",
            f"/orders/{order.number}/pay/",
            f"/member/addresses/{address.pk}/",
            f"/member/addresses/{address.pk}/delete/",
            f"/member/addresses/{address.pk}/default/",
        ],
    }


MEMBER_ONLY_PAGES = [
    "/orders/",
    "/member/",
    "/member/points/",
    "/member/coupons/",
    "/member/favourites/",
    "/member/addresses/",
    "/member/privacy/",
    "/member/privacy/export/",
    "/checkout/",
]


def test_another_member_gets_404_for_every_owned_object_on_the_web(owner_objects):
    other = seed.member("other@example.com")
    client = Client()
    client.force_login(other)
    urls = _web_urls(owner_objects)
    for url in urls["get"]:
        assert client.get(url).status_code == 404, f"GET {url}"
    for url in urls["post"]:
        assert client.post(url, {"recipient_name": "x"}).status_code == 404, f"POST {url}"
    # and nothing of the owner's changed
    order = Order.objects.get(pk=owner_objects["order"].pk)
    assert order.status == Order.Status.PENDING_PAYMENT
    assert Address.objects.filter(pk=owner_objects["address"].pk, is_default=True).exists()


def test_another_members_lists_and_export_hold_none_of_the_owners_data(owner_objects):
    other = seed.member("other@example.com")
    client = Client()
    client.force_login(other)
    pages = "".join(
        client.get(url).content.decode()
        for url in [
            "/orders/",
            "/member/points/",
            "/member/coupons/",
            "/member/favourites/",
            "/member/addresses/",
        ]
    )
    export = client.get("/member/privacy/export/").content.decode()
    for secret in [
        owner_objects["order"].number,
        owner_objects["coupon"].code,
        "owner-only-note",
        "长安街",
        "owner@example.com",
    ]:
        assert secret not in pages
        assert secret not in export
    # the favourite toggle acts on the caller's own favourites only
    client.post("/member/favourites/toggle/", {"product_id": owner_objects["products"]["speaker"].pk})
    assert Favourite.objects.filter(pk=owner_objects["favourite"].pk).exists()


def test_a_guest_is_sent_to_log_in_for_member_pages_and_owned_objects(owner_objects):
    client = Client()
    urls = _web_urls(owner_objects)
    for url in MEMBER_ONLY_PAGES + urls["get"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], f"GET {url}"
    for url in urls["post"] + ["/member/favourites/toggle/", "/p/puer/review/"]:
        response = client.post(url, {})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], f"POST {url}"


def _api(user):
    client = Client()
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def test_the_api_keeps_each_members_objects_to_themselves(owner_objects):
    other = _api(seed.member("other@example.com"))
    order, address = owner_objects["order"], owner_objects["address"]
    # another member: details are 404, lists and the export hold none of the owner's rows
    for url in [f"/api/v1/orders/{order.number}/", f"/api/v1/me/addresses/{address.pk}/"]:
        assert other.get(url).status_code == 404, url
    for url in [f"/api/v1/orders/{order.number}/cancel/", f"/api/v1/orders/{order.number}/sandbox-payment/"]:
        assert other.post(url).status_code == 404, url
    assert other.delete(f"/api/v1/me/addresses/{address.pk}/").status_code == 404
    listed = "".join(
        other.get(url).content.decode()
        for url in [
            "/api/v1/orders/",
            "/api/v1/me/addresses/",
            "/api/v1/me/coupons/",
            "/api/v1/me/points/ledger/",
            "/api/v1/me/favourites/",
            "/api/v1/me/export/",
        ]
    )
    for secret in [order.number, owner_objects["coupon"].code, "owner-only-note", "长安街"]:
        assert secret not in listed
    assert json.loads(other.get("/api/v1/me/points/").content).get("available", 0) == 0
    assert Address.objects.filter(pk=address.pk).exists()


def test_the_api_refuses_guests_on_member_endpoints(owner_objects):
    guest = _api(None)
    for url in [
        "/api/v1/orders/",
        f"/api/v1/orders/{owner_objects['order'].number}/",
        "/api/v1/me/profile/",
        "/api/v1/me/addresses/",
        "/api/v1/me/points/",
        "/api/v1/me/points/ledger/",
        "/api/v1/me/coupons/",
        "/api/v1/me/favourites/",
        "/api/v1/me/export/",
    ]:
        assert guest.get(url).status_code in (401, 403), url
