"""Checkout: order placement, idempotency, tampering, stock, payments (incl. the last-unit race)."""

import functools
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.testing import run_concurrently
from shop.models import CartItem, Event, Order, OrderStatusChange, Payment, Product
from shop.payments import SandboxProvider
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.services.orders import payment_callback_handle, payment_start
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

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


def _place(user, cart, key="key-1", **kwargs):
    return order_place(
        user=user, cart=cart, address=ADDRESS, shipping_method="standard", idempotency_key=key, **kwargs
    )


def _form(key="key-1", **overrides):
    return {**ADDRESS, "shipping_method": "standard", "idempotency_key": key, "points": "0", **overrides}


def test_order_place_takes_stock_prices_from_db_and_empties_cart():
    # given a member with 2 units of a ¥40 product in the cart (below free shipping)
    user = UserFactory()
    product = ProductFactory(price=Decimal("40.00"), stock=5)
    cart = _cart_with(user, product, 2)
    # when the order is placed
    order = _place(user, cart)
    # then stock is taken, totals add up with the ¥10 standard fee, and the cart is empty
    product.refresh_from_db()
    assert product.stock == 3
    assert order.status == Order.Status.PENDING_PAYMENT
    assert (order.subtotal, order.shipping_fee, order.total) == (
        Decimal("80.00"),
        Decimal("10.00"),
        Decimal("90.00"),
    )
    assert order.lines.get().unit_price == Decimal("40.00")
    assert not CartItem.objects.filter(cart=cart).exists()
    assert OrderStatusChange.objects.get(order=order).changed_by == user


def test_free_shipping_over_threshold():
    user = UserFactory()
    order = _place(user, _cart_with(user, ProductFactory(price=Decimal("99.00"))))
    assert order.shipping_fee == Decimal("0.00")


def test_same_idempotency_key_returns_the_same_order():
    user = UserFactory()
    cart = _cart_with(user, ProductFactory(stock=5))
    first = _place(user, cart, key="double")
    second = _place(user, cart, key="double")  # cart is empty now: still the first order back
    assert first.pk == second.pk
    assert Order.objects.count() == 1


def test_someone_elses_idempotency_key_is_refused():
    owner, other = UserFactory(), UserFactory()
    _place(owner, _cart_with(owner, ProductFactory()), key="shared")
    with pytest.raises(DomainError):
        _place(other, _cart_with(other, ProductFactory()), key="shared")


def test_double_submitted_checkout_form_makes_one_order(client):
    user = UserFactory()
    client.force_login(user)
    _cart_with(user, ProductFactory(stock=5))
    key = client.get(reverse("shop:checkout")).context["form"].initial["idempotency_key"]
    first = client.post(reverse("shop:checkout"), _form(key))
    second = client.post(reverse("shop:checkout"), _form(key))
    assert first.status_code == second.status_code == 302
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1  # the open payment is reused too


def test_out_of_stock_at_checkout_changes_nothing():
    user = UserFactory()
    product = ProductFactory(stock=3)
    cart = _cart_with(user, product, 3)
    Product.objects.filter(pk=product.pk).update(stock=2)  # someone else bought one meanwhile
    with pytest.raises(DomainError, match="库存不足"):
        _place(user, cart)
    product.refresh_from_db()
    assert product.stock == 2 and not Order.objects.exists()
    assert CartItem.objects.filter(cart=cart).exists()


def test_tampered_price_and_totals_in_the_form_are_ignored(client):
    user = UserFactory()
    client.force_login(user)
    _cart_with(user, ProductFactory(price=Decimal("120.00")))
    client.post(
        reverse("shop:checkout"), _form(total="0.01", subtotal="0.01", price="0.01", shipping_fee="0")
    )
    assert Order.objects.get().total == Decimal("120.00")


@pytest.mark.parametrize(
    "overrides",
    [
        {"phone": "call me"},
        {"recipient_name": ""},
        {"shipping_method": "teleport"},
        {"points": "-5"},
        {"postcode": "ABCDEFG"},
        {"idempotency_key": ""},
    ],
)
def test_bad_checkout_input_shows_errors_and_places_nothing(client, overrides):
    user = UserFactory()
    client.force_login(user)
    _cart_with(user, ProductFactory())
    response = client.post(reverse("shop:checkout"), _form(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Order.objects.exists()


def test_guest_is_sent_to_log_in_and_keeps_the_cart(client):
    product = ProductFactory()
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})
    response = client.get(reverse("shop:checkout"))
    assert response.status_code == 302 and "/accounts/login/" in response.url and "checkout" in response.url
    user = UserFactory()
    client.post(reverse("account_login"), {"login": user.email, "password": "pass12345"})
    page = client.get(reverse("shop:checkout"))
    assert page.status_code == 200 and len(page.context["lines"]) == 1


def test_empty_cart_checkout_redirects_to_cart(client):
    client.force_login(UserFactory())
    assert client.get(reverse("shop:checkout")).url == reverse("shop:cart")


def _paid_flow(user, product):
    order = _place(user, _cart_with(user, product))
    payment, url = payment_start(order=order)
    return order, payment, url


def test_sandbox_payment_pays_the_order_once_even_if_called_back_twice():
    user = UserFactory()
    product = ProductFactory(stock=5)
    order, payment, url = _paid_flow(user, product)
    assert url == reverse("shop:sandbox_pay", kwargs={"reference": payment.reference})
    data = SandboxProvider().callback_fields(payment, "succeeded")
    payment_callback_handle(data=data)
    payment_callback_handle(data=data)
    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at
    assert product.sales_count == 1
    assert OrderStatusChange.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert Event.objects.filter(kind=Event.Kind.PURCHASE, product=product).count() == 1


def test_forged_or_mismatched_callbacks_are_refused(client):
    user = UserFactory()
    order, payment, _url = _paid_flow(user, ProductFactory())
    forged = SandboxProvider().callback_fields(payment, "succeeded")
    forged["signature"] = "0" * 64
    response = client.post(reverse("shop:payment_callback"), forged)
    assert response.status_code == 400
    cheaper = {**SandboxProvider().callback_fields(payment, "succeeded"), "amount": "0.01"}
    assert client.post(reverse("shop:payment_callback"), cheaper).status_code == 400
    assert client.post(reverse("shop:payment_callback"), {}).status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT


def test_failed_payment_leaves_the_order_payable(client):
    user = UserFactory()
    client.force_login(user)
    order, payment, _url = _paid_flow(user, ProductFactory())
    response = client.post(
        reverse("shop:payment_callback"), SandboxProvider().callback_fields(payment, "failed")
    )
    assert response.url == order.get_absolute_url()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    # paying again starts a new payment
    response = client.post(reverse("shop:order_pay", args=[order.number]))
    assert response.status_code == 302 and Payment.objects.count() == 2


def test_browser_flow_checkout_to_paid_page(client):
    user = UserFactory()
    client.force_login(user)
    _cart_with(user, ProductFactory(stock=5))
    response = client.post(reverse("shop:checkout"), _form("flow"))
    sandbox = client.get(response.url)
    assert sandbox.status_code == 200
    fields = dict(sandbox.context["outcomes"])["succeeded"]
    paid = client.post(reverse("shop:payment_callback"), fields, follow=True)
    assert paid.status_code == 200
    assert paid.context["order"].status == Order.Status.PAID


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_of_the_last_unit_sell_it_once():
    # given one unit left and two members with it in their carts
    product = ProductFactory(stock=1)
    buyers = [UserFactory(), UserFactory()]
    carts = [_cart_with(user, product) for user in buyers]
    # when both check out at the same moment
    results = run_concurrently(
        *[
            functools.partial(_place, user, cart, key=f"race-{i}")
            for i, (user, cart) in enumerate(zip(buyers, carts))
        ],
        catch=(DomainError,),
    )
    # then exactly one order exists and stock is zero, never negative
    product.refresh_from_db()
    assert product.stock == 0
    assert Order.objects.count() == 1
    assert sum(isinstance(r, DomainError) for r in results) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_makes_one_order():
    user = UserFactory()
    cart = _cart_with(user, ProductFactory(stock=5))
    results = run_concurrently(*[lambda: _place(user, cart, key="same-key")] * 2, catch=(DomainError,))
    assert Order.objects.count() == 1
    orders = [r for r in results if isinstance(r, Order)]
    assert orders and all(o.pk == orders[0].pk for o in orders)


def test_an_order_number_clash_draws_a_new_number(monkeypatch):
    user = UserFactory()
    first = _place(user, _cart_with(user, ProductFactory()), key="first")
    numbers = iter([first.number, "202611220000123456"])
    monkeypatch.setattr("shop.services.checkout._new_order_number", lambda: next(numbers))
    second = _place(user, _cart_with(user, ProductFactory()), key="second")
    assert second.number == "202611220000123456"
