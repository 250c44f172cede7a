"""Cart: adding, quantities, stock limits, price-change notices, bad input, and the login merge."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import DomainError
from shop.models import Cart, CartItem, Event
from shop.services.cart import cart_add, cart_get_or_create, cart_remove, cart_set_quantity
from shop.tests.factories import CartFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_add_uses_the_database_price_and_adds_up():
    cart = CartFactory()
    product = ProductFactory(price=Decimal("12.50"), stock=5)
    cart_add(cart=cart, product_id=product.pk, quantity=2)
    item = cart_add(cart=cart, product_id=product.pk, quantity=1)
    assert item.quantity == 3 and item.unit_price == Decimal("12.50")
    assert Event.objects.filter(kind=Event.Kind.CART_ADD, user=cart.user).count() == 2


def test_cannot_add_more_than_stock():
    cart = CartFactory()
    product = ProductFactory(stock=2)
    with pytest.raises(DomainError, match="库存仅剩 2 件"):
        cart_add(cart=cart, product_id=product.pk, quantity=3)
    assert not CartItem.objects.exists()


def test_cannot_add_sold_out_or_inactive_products():
    cart = CartFactory()
    with pytest.raises(DomainError):
        cart_add(cart=cart, product_id=ProductFactory(stock=0).pk, quantity=1)
    with pytest.raises(DomainError):
        cart_add(cart=cart, product_id=ProductFactory(is_active=False).pk, quantity=1)
    with pytest.raises(DomainError):
        cart_add(cart=cart, product_id=999999, quantity=1)


@pytest.mark.parametrize("quantity", [0, -1, 100, "abc", None])
def test_invalid_quantities_are_refused(quantity):
    cart = CartFactory()
    with pytest.raises(DomainError):
        cart_add(cart=cart, product_id=ProductFactory().pk, quantity=quantity)


def test_set_quantity_and_remove():
    cart = CartFactory()
    product = ProductFactory(stock=10)
    cart_add(cart=cart, product_id=product.pk, quantity=1)
    assert cart_set_quantity(cart=cart, product_id=product.pk, quantity=4).quantity == 4
    with pytest.raises(DomainError):
        cart_set_quantity(cart=cart, product_id=product.pk, quantity=11)
    assert cart_set_quantity(cart=cart, product_id=product.pk, quantity=0) is None
    assert not CartItem.objects.exists()
    with pytest.raises(DomainError):
        cart_remove(cart=cart, product_id=product.pk)
    assert Event.objects.filter(kind=Event.Kind.CART_REMOVE).count() == 1


def test_guest_adds_through_the_page_and_sees_the_cart(client):
    product = ProductFactory(name="保温杯")
    response = client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 2})
    assert response.status_code == 302
    page = client.get(reverse("shop:cart"))
    assert "保温杯" in page.content.decode()
    assert page.context["cart_count"] == 2


@pytest.mark.parametrize(
    "data",
    [
        {"product_id": "x", "quantity": 1},
        {"product_id": 1, "quantity": "lots"},
        {"product_id": 999999, "quantity": 1},
        {"quantity": 1},
        {"product_id": 1, "quantity": 0},
    ],
)
def test_bad_cart_posts_give_a_message_and_change_nothing(client, data):
    ProductFactory()
    response = client.post(reverse("shop:cart_add"), data, follow=True)
    assert response.status_code == 200
    assert list(response.context["messages"])
    assert not CartItem.objects.exists()


def test_tampered_price_in_post_is_ignored(client):
    product = ProductFactory(price=Decimal("88.00"))
    client.post(
        reverse("shop:cart_add"),
        {"product_id": product.pk, "quantity": 1, "price": "0.01", "unit_price": "0.01"},
    )
    assert CartItem.objects.get().unit_price == Decimal("88.00")


def test_price_change_is_noticed(client):
    product = ProductFactory(price=Decimal("50.00"))
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})
    product.price = Decimal("45.00")
    product.save()
    page = client.get(reverse("shop:cart"))
    assert page.context["price_changed"]
    assert "¥45.00" in page.content.decode()
    client.post(reverse("shop:cart_update"), {"acknowledge_prices": "1"})
    assert not client.get(reverse("shop:cart")).context["price_changed"]


def test_update_and_remove_views(client):
    product = ProductFactory(stock=3)
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})
    response = client.post(
        reverse("shop:cart_update"), {"product_id": product.pk, "quantity": 9}, follow=True
    )
    assert "库存仅剩 3 件" in response.content.decode()
    assert CartItem.objects.get().quantity == 1
    client.post(reverse("shop:cart_remove"), {"product_id": product.pk})
    assert not CartItem.objects.exists()


def test_guest_cart_and_events_join_the_member_on_login(client):
    # given a guest who viewed and carted products, and a member who already has a cart
    member = UserFactory()
    kept, added = ProductFactory(stock=10), ProductFactory(stock=10)
    member_cart = cart_get_or_create(user=member)
    cart_add(cart=member_cart, product_id=kept.pk, quantity=1)
    client.get(added.get_absolute_url())
    client.post(reverse("shop:cart_add"), {"product_id": kept.pk, "quantity": 2})
    client.post(reverse("shop:cart_add"), {"product_id": added.pk, "quantity": 1})
    old_session_key = client.session.session_key
    # when the guest logs in (Django cycles the session key)
    response = client.post(reverse("account_login"), {"login": member.email, "password": "pass12345"})
    assert response.status_code == 302
    assert client.session.session_key != old_session_key
    # then there is one cart, the member's, holding both products, and the events are theirs
    assert Cart.objects.count() == 1
    quantities = dict(CartItem.objects.filter(cart=member_cart).values_list("product_id", "quantity"))
    assert quantities == {kept.pk: 3, added.pk: 1}
    assert not Event.objects.filter(user__isnull=True).exists()
    assert Event.objects.filter(user=member, kind=Event.Kind.VIEW, product=added).exists()


def test_guest_cart_is_adopted_when_the_member_has_none(client):
    member = UserFactory()
    product = ProductFactory()
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})
    client.force_login(member)
    cart = Cart.objects.get()
    assert cart.user == member and cart.session_key is None
