"""What a shopper on a phone relies on: 立即购买, cart steppers that work without JavaScript, a way to log out."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from shop.services.cart import cart_add, cart_get_or_create
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_buy_now_adds_to_the_cart_and_goes_straight_to_checkout(client, shopper):
    product = ProductFactory(stock=5)

    page = client.get(product.get_absolute_url()).content.decode()
    assert 'name="buy_now"' in page and "立即购买" in page and 'class="buy-bar"' in page
    response = client.post(
        reverse("shop:cart_add"),
        {"product_id": product.pk, "quantity": 2, "next": product.get_absolute_url(), "buy_now": "1"},
    )

    assert response.status_code == 302 and response["Location"] == reverse("shop:checkout")
    assert cart_get_or_create(user=shopper).items.get().quantity == 2


def test_add_to_cart_without_buy_now_still_returns_to_the_product(client, shopper):
    product = ProductFactory(stock=5)

    response = client.post(
        reverse("shop:cart_add"),
        {"product_id": product.pk, "quantity": 1, "next": product.get_absolute_url()},
    )

    assert response["Location"] == product.get_absolute_url()


def _stepper_forms(html):
    """(quantity posted, disabled?) for each −/+ button in the cart, in page order."""
    forms = re.findall(r'<form action="/cart/update/" method="post">(.*?)</form>', html, re.S)
    return [
        (int(re.search(r'name="quantity" value="(-?\d+)"', form).group(1)), " disabled" in form)
        for form in forms
    ]


def test_cart_steppers_post_one_less_and_one_more(client, shopper):
    product = ProductFactory(stock=10)
    cart_add(cart=cart_get_or_create(user=shopper), product_id=product.pk, quantity=2)

    assert _stepper_forms(client.get(reverse("shop:cart")).content.decode()) == [(1, False), (3, False)]
    client.post(reverse("shop:cart_update"), {"product_id": product.pk, "quantity": 3})  # the + button
    assert cart_get_or_create(user=shopper).items.get().quantity == 3


def test_cart_steppers_stop_at_one_and_at_the_stock(client, shopper):
    product = ProductFactory(stock=1)
    cart_add(cart=cart_get_or_create(user=shopper), product_id=product.pk, quantity=1)

    assert _stepper_forms(client.get(reverse("shop:cart")).content.decode()) == [(0, True), (2, True)]


def test_logout_is_in_the_member_centre_and_not_hidden_in_the_header_on_phones(client, shopper):
    centre = client.get(reverse("members:centre")).content.decode()

    assert re.search(r'class="member-nav-logout" action="/accounts/logout/"', centre)
    assert "退出登录" in centre
    css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()
    assert ".account-links .inline-form { display: none; }" not in css


def test_every_page_starts_with_a_skip_link_to_the_main_content(client):
    html = client.get(reverse("shop:home")).content.decode()

    assert '<a class="skip-link" href="#main">跳到主要内容</a>' in html
    assert '<main id="main"' in html
