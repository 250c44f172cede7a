"""A cart becomes one order: many checkout pages submitted at once, and double submits of one page."""

import functools

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.testing import run_concurrently
from shop.models import Order, Payment
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.tests.factories import ProductFactory, UserFactory

ADDRESS = {
    "recipient_name": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_line": "文三路 1 号",
    "postcode": "310000",
}


def _cart_with(user, product, quantity=1):
    cart = cart_get_or_create(user=user)
    cart_add(cart=cart, product_id=product.pk, quantity=quantity)
    return cart


def _place(user, cart, key):
    return order_place(user=user, cart=cart, address=ADDRESS, shipping_method="standard", idempotency_key=key)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_checkout_pages_of_one_cart_make_one_order():
    # given a one-unit cart and plenty of stock (stock alone would not stop a second order)
    user, product = UserFactory(), ProductFactory(stock=5)
    cart = _cart_with(user, product)

    # when ten checkout pages (ten idempotency keys) submit it at the same moment
    results = run_concurrently(
        *[functools.partial(_place, user, cart, f"page-{i}") for i in range(10)], catch=(DomainError,)
    )

    # then one order took one unit, and the other nine were told the cart is empty
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 4
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 9 and {r.code for r in refused} == {"empty_cart"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_submits_of_one_page_all_get_the_first_order():
    user, product = UserFactory(), ProductFactory(stock=5)
    cart = _cart_with(user, product, quantity=2)

    results = run_concurrently(*[functools.partial(_place, user, cart, "one-page")] * 10)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Order.objects.count() == 1 and {r.pk for r in results} == {Order.objects.get().pk}
    product.refresh_from_db()
    assert product.stock == 3


@pytest.mark.django_db
def test_a_double_submitted_checkout_lands_on_the_first_orders_payment_page(client):
    # given a member who submitted the checkout page once
    user = UserFactory()
    _cart_with(user, ProductFactory(stock=5))
    client.force_login(user)
    form = {**ADDRESS, "shipping_method": "standard", "idempotency_key": "twice", "points": "0"}
    first = client.post(reverse("shop:checkout"), form)

    # when the same page is submitted again (the cart is empty by now)
    second = client.post(reverse("shop:checkout"), form)

    # then both land on the same payment page of the one order
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert Payment.objects.get().reference in first.url
