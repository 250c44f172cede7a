"""The sandbox provider's refund, query and close, and which providers the settings turn on."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import DomainError
from shop.payments import PROVIDERS, SandboxProvider, payment_methods, provider_default_name, provider_get
from shop.services.orders import payment_sandbox_settle, payment_start
from shop.tests.payment_support import order_to_pay

pytestmark = pytest.mark.django_db


def test_sandbox_refunds_at_once_records_them_and_never_more_than_paid():
    # given an order paid in the sandbox
    _user, _product, order = order_to_pay()
    payment = payment_sandbox_settle(order=order, outcome="succeeded")
    provider = provider_get("sandbox")
    # when part of it is refunded, twice with the same number
    first = provider.refund(payment, amount=Decimal("10.00"), reason="退货", refund_no="SB-1")
    again = provider.refund(payment, amount=Decimal("10.00"), reason="退货", refund_no="SB-1")
    # then it is one refund, succeeded at once and recorded
    assert first == again and first.status == "succeeded"
    assert provider.refunded_total(payment.reference) == Decimal("10.00")
    assert provider.query(payment) == "paid"
    with pytest.raises(DomainError) as too_much:
        provider.refund(payment, amount=payment.amount, reason="退货", refund_no="SB-2")
    assert too_much.value.code == "refund_too_much"
    provider.refund(payment, amount=payment.amount - Decimal("10.00"), reason="退货", refund_no="SB-3")
    assert provider.query(payment) == "refunded"


def test_sandbox_query_and_close_an_unpaid_payment():
    _user, _product, order = order_to_pay()
    payment, _url = payment_start(order=order)
    provider = provider_get("sandbox")
    assert provider.query(payment) == "pending"
    with pytest.raises(DomainError):
        provider.refund(payment, amount=Decimal("1.00"), reason="", refund_no="SB-X")
    provider.close(payment)
    assert provider.query(payment) == "closed"


def test_without_settings_only_the_sandbox_runs(settings):
    assert settings.PAYMENT_PROVIDERS == ["sandbox"]
    assert [name for name, _label in payment_methods()] == [
        "sandbox"
    ] and provider_default_name() == "sandbox"
    assert isinstance(provider_get(), SandboxProvider)
    for name in ("alipay", "wechat", "paypal"):
        with pytest.raises(DomainError) as refused:
            provider_get(name)
        assert refused.value.code == "unknown_provider"
    assert set(PROVIDERS) == {"sandbox", "alipay", "wechat"}


def test_an_empty_wechat_certificate_folder_is_refused_before_any_network_call(settings, tmp_path):
    settings.PAYMENT_PROVIDERS = ["wechat"]
    settings.WECHATPAY_PLATFORM_CERT_DIR = str(tmp_path)
    settings.WECHATPAY_GATEWAY = "http://127.0.0.1:9"  # nothing listens: a call would fail loudly
    from shop.tests.fake_gateways import private_pem, rsa_key

    key_path = tmp_path / "key.pem"
    key_path.write_text(private_pem(rsa_key()))
    settings.WECHATPAY_PRIVATE_KEY_PATH = str(key_path)
    with pytest.raises(DomainError) as refused:
        provider_get("wechat")
    assert refused.value.code == "provider_misconfigured"


def test_the_real_providers_pages_do_not_serve_the_sandbox_or_unknown_names(client):
    user, _product, order = order_to_pay()
    payment, _url = payment_start(order=order)
    client.force_login(user)
    for provider in ("sandbox", "alipay", "nope"):
        assert client.get(reverse("shop:payment_go", args=[provider, payment.reference])).status_code == 404
        # (/pay/sandbox/notify/ is the sandbox page's own address: GET only)
        assert client.post(reverse("shop:payment_notify", args=[provider]), {}).status_code in (404, 405)
