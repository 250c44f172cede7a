"""Shared pieces of the payment adapter tests: an order to pay, and the fake gateways wired into settings."""

from decimal import Decimal

import pytest

from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.tests.factories import ProductFactory, UserFactory
from shop.tests.fake_gateways import FakeAlipay, FakeWechatPay

ADDRESS = {
    "recipient_name": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_line": "文三路 1 号",
    "postcode": "310000",
}


def order_to_pay(price=Decimal("128.50"), key="pay-1"):
    user = UserFactory()
    product = ProductFactory(price=price, stock=5)
    cart = cart_get_or_create(user=user)
    cart_add(cart=cart, product_id=product.pk, quantity=1)
    order = order_place(
        user=user, cart=cart, address=ADDRESS, shipping_method="standard", idempotency_key=key
    )
    return user, product, order


@pytest.fixture
def fake_alipay(settings, tmp_path, live_server):
    fake = FakeAlipay()
    for name, value in fake.settings(tmp_path).items():
        setattr(settings, name, value)
    settings.PAYMENT_PROVIDERS = ["sandbox", "alipay"]
    settings.PAYMENT_PUBLIC_ORIGIN = live_server.url
    yield fake
    fake.stop()


@pytest.fixture
def fake_wechat(settings, tmp_path, live_server):
    fake = FakeWechatPay()
    for name, value in fake.settings(tmp_path).items():
        setattr(settings, name, value)
    settings.PAYMENT_PROVIDERS = ["sandbox", "wechat"]
    settings.PAYMENT_PUBLIC_ORIGIN = live_server.url
    yield fake
    fake.stop()
