"""Concurrent first adds of one product to one cart: one line, no 500, limits still hold (PostgreSQL)."""

import functools

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.errors import DomainError
from core.testing import run_concurrently
from shop.models import CartItem
from shop.services.cart import MAX_QUANTITY_PER_LINE, cart_add, cart_get_or_create
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 10


def test_ten_concurrent_first_adds_make_one_line_with_every_unit():
    # given a member's empty cart and a product with plenty of stock
    cart = cart_get_or_create(user=UserFactory())
    product = ProductFactory(stock=50)

    # when ten requests add it at the same moment
    results = run_concurrently(*[functools.partial(cart_add, cart=cart, product_id=product.pk)] * THREADS)

    # then none failed, and one line holds all ten units
    assert not [r for r in results if isinstance(r, Exception)], results
    item = CartItem.objects.get(cart=cart)
    assert item.product_id == product.pk and item.quantity == THREADS


def test_concurrent_adds_still_stop_at_the_stock():
    cart = cart_get_or_create(user=UserFactory())
    product = ProductFactory(stock=4)

    results = run_concurrently(
        *[functools.partial(cart_add, cart=cart, product_id=product.pk)] * THREADS, catch=(DomainError,)
    )

    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == THREADS - 4
    assert all(r.code in ("out_of_stock", "insufficient_stock") for r in refused)
    assert CartItem.objects.get(cart=cart).quantity == 4


def test_concurrent_adds_still_stop_at_the_line_limit():
    cart = cart_get_or_create(user=UserFactory())
    product = ProductFactory(stock=500)

    results = run_concurrently(
        *[functools.partial(cart_add, cart=cart, product_id=product.pk, quantity=30)] * THREADS,
        catch=(DomainError,),
    )

    assert sum(isinstance(r, DomainError) for r in results) == THREADS - MAX_QUANTITY_PER_LINE // 30
    assert CartItem.objects.get(cart=cart).quantity == 30 * (MAX_QUANTITY_PER_LINE // 30)


def test_ten_concurrent_first_adds_through_the_api_answer_201():
    user, product = UserFactory(), ProductFactory(stock=50)

    def add():
        client = APIClient()
        client.force_authenticate(user)
        return client.post("/api/v1/cart/items/", {"product_id": product.pk, "quantity": 1}, format="json")

    responses = run_concurrently(*[add] * THREADS)

    assert [r.status_code for r in responses] == [201] * THREADS
    assert CartItem.objects.get(cart__user=user).quantity == THREADS


def test_ten_concurrent_first_adds_on_the_site_all_go_in():
    user, product = UserFactory(), ProductFactory(stock=50)

    def add():
        browser = Client()
        browser.force_login(user)
        return browser.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})

    responses = run_concurrently(*[add] * THREADS)

    assert [r.status_code for r in responses] == [302] * THREADS
    assert CartItem.objects.get(cart__user=user).quantity == THREADS
