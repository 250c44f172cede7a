"""Every member-owned object: the owner sees and changes it, another member gets a 404, a guest a 401."""

import uuid

import pytest

from members.models import Address, Favourite
from members.tests.factories import AddressFactory
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

ADDRESS = {
    "recipient_name": "张三",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "address_line": "世纪大道1号",
}


@pytest.fixture
def order(member, catalogue):
    cart = cart_get_or_create(user=member)
    cart_add(cart=cart, product_id=catalogue["pan"].pk, quantity=1)
    return order_place(
        user=member, cart=cart, address=ADDRESS, shipping_method="standard", idempotency_key=uuid.uuid4().hex
    )


@pytest.fixture
def address(member):
    return AddressFactory(user=member)


@pytest.fixture
def favourite(member, catalogue):
    return Favourite.objects.create(user=member, product=catalogue["pan"])


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/v1/orders/{order.number}/", None),
        ("post", "/api/v1/orders/{order.number}/cancel/", None),
        ("post", "/api/v1/orders/{order.number}/sandbox-payment/", {"outcome": "succeeded"}),
    ],
)
def test_another_members_order_is_not_found(api, other_api, order, method, path, body):
    url = path.format(order=order)
    response = getattr(other_api, method)(url, body, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert order.number not in [o["number"] for o in other_api.get("/api/v1/orders/").json()["results"]]
    assert getattr(api, method)(url, body, format="json").status_code == 200
    order.refresh_from_db()


@pytest.mark.parametrize("method, body", [("get", None), ("patch", {"city": "南京市"}), ("delete", None)])
def test_another_members_address_is_not_found(api, other_api, address, method, body):
    url = f"/api/v1/me/addresses/{address.pk}/"
    response = getattr(other_api, method)(url, body, format="json")
    assert response.status_code == 404
    assert Address.objects.filter(pk=address.pk, city="杭州市").exists()
    assert other_api.get("/api/v1/me/addresses/").json() == []
    assert getattr(api, method)(url, body, format="json").status_code in (200, 204)


def test_another_members_favourite_is_not_theirs_to_remove(api, other_api, favourite):
    url = f"/api/v1/me/favourites/{favourite.product_id}/"
    assert other_api.delete(url).status_code == 404
    assert other_api.get("/api/v1/me/favourites/").json()["results"] == []
    assert Favourite.objects.filter(pk=favourite.pk).exists()
    assert api.delete(url).status_code == 204
    assert not Favourite.objects.filter(pk=favourite.pk).exists()


def test_another_members_cart_line_is_not_found(api, other_api, member, catalogue):
    cart_add(cart=cart_get_or_create(user=member), product_id=catalogue["pan"].pk, quantity=2)
    url = f"/api/v1/cart/items/{catalogue['pan'].pk}/"
    assert other_api.patch(url, {"quantity": 5}, format="json").status_code == 404
    assert other_api.delete(url).status_code == 404
    assert other_api.get("/api/v1/cart/").json()["lines"] == []
    assert api.get("/api/v1/cart/").json()["lines"][0]["quantity"] == 2


def test_member_reads_show_only_their_own_data(
    api, other_api, member, other_member, order, address, favourite
):
    for path in ("/api/v1/me/profile/", "/api/v1/me/export/"):
        assert other_member.email in str(other_api.get(path).json())
        assert member.email not in str(other_api.get(path).json())
    assert other_api.get("/api/v1/me/coupons/").json()["results"] == []
    assert other_api.get("/api/v1/me/points/ledger/").json()["results"] == []
    assert other_api.get("/api/v1/me/export/").json()["orders"] == []
    assert api.get("/api/v1/me/export/").json()["orders"][0]["number"] == order.number


def test_personalisation_switch_is_per_member(api, other_api, member):
    assert api.put("/api/v1/me/personalisation/", {"enabled": False}, format="json").json() == {
        "enabled": False
    }
    assert api.get("/api/v1/recommendations/for-me/").json()["personalised"] is False
    assert other_api.get("/api/v1/me/personalisation/").json() == {"enabled": True}
    assert other_api.get("/api/v1/recommendations/for-me/").json()["personalised"] is True


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/cart/"),
        ("post", "/api/v1/cart/items/"),
        ("post", "/api/v1/cart/quote/"),
        ("get", "/api/v1/orders/"),
        ("post", "/api/v1/orders/"),
        ("get", "/api/v1/me/profile/"),
        ("get", "/api/v1/me/addresses/"),
        ("get", "/api/v1/me/points/"),
        ("get", "/api/v1/me/points/ledger/"),
        ("get", "/api/v1/me/tier/"),
        ("get", "/api/v1/me/coupons/"),
        ("get", "/api/v1/coupons/claimable/"),
        ("get", "/api/v1/me/favourites/"),
        ("get", "/api/v1/me/personalisation/"),
        ("get", "/api/v1/me/export/"),
        ("get", "/api/v1/recommendations/cart/"),
    ],
)
def test_member_endpoints_need_a_login(anon, method, path):
    response = getattr(anon, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Token")
