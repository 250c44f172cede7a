"""Alipay adapter against a fake Alipay gateway on loopback: pay, notify (good and bad), refund, query, close."""

import urllib.request
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import PointsEntry
from shop.models import Order, OrderStatusChange, Payment
from shop.payments import provider_get
from shop.services.orders import order_cancel, orders_cancel_unpaid, payment_start
from shop.tests.payment_support import fake_alipay, order_to_pay

FIXTURES = (fake_alipay,)  # used by name below

pytestmark = pytest.mark.django_db(transaction=True)


def _open_cashier(client, user, order, *, mobile=False):
    """The shopper chooses Alipay on the order page and lands on Alipay's (fake) cashier."""
    client.force_login(user)
    response = client.post(reverse("shop:order_pay", args=[order.number]), {"provider": "alipay"})
    go = client.get(response.url, HTTP_USER_AGENT="Mozilla/5.0 (iPhone; Mobile)" if mobile else "Mozilla/5.0")
    assert go.status_code == 302
    with urllib.request.urlopen(go.url, timeout=10) as cashier:
        assert cashier.status == 200
    return Payment.objects.get(order=order, provider="alipay"), go.url


def _state(order, user):
    order.refresh_from_db()
    return (
        order.status,
        list(order.payments.values_list("status", flat=True)),
        OrderStatusChange.objects.filter(order=order).count(),
        PointsEntry.objects.filter(user=user).count(),
    )


def test_pay_notify_refund_query_the_whole_way(client, fake_alipay):
    # given a member's unpaid order, paid with Alipay on a desktop browser
    user, _product, order = order_to_pay()
    payment, cashier_url = _open_cashier(client, user, order)
    sent = parse_qs(urlsplit(cashier_url).query)
    assert sent["method"] == ["alipay.trade.page.pay"] and sent["sign_type"] == ["RSA2"]
    assert fake_alipay.requests[-1][2]["verified"] is True
    assert fake_alipay.trades[payment.reference]["total"] == Decimal("128.50") + order.shipping_fee
    # when Alipay notifies the site that the buyer paid
    (status, body), _fields = fake_alipay.buyer_pays(payment.reference)
    # then the answer is Alipay's exact "success", the order is paid and the points are earned
    assert (status, body) == (200, "success")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.PAID and payment.status == Payment.Status.SUCCEEDED
    assert PointsEntry.objects.filter(user=user, order=order, reason=PointsEntry.Reason.PURCHASE).exists()
    # and a partial refund through the adapter reaches Alipay, once even when retried
    provider = provider_get("alipay")
    result = provider.refund(payment, amount=Decimal("28.50"), reason="退货", refund_no="RF1")
    again = provider.refund(payment, amount=Decimal("28.50"), reason="退货", refund_no="RF1")
    assert result.status == again.status == "succeeded" and result.amount == Decimal("28.50")
    assert fake_alipay.trades[payment.reference]["refunds"] == {"RF1": Decimal("28.50")}
    assert provider.query(payment) == "paid"
    rest = payment.amount - Decimal("28.50")
    provider.refund(payment, amount=rest, reason="退货", refund_no="RF2")
    assert provider.query(payment) == "refunded"


def test_mobile_browsers_get_the_wap_cashier(client, fake_alipay):
    user, _product, order = order_to_pay()
    _payment, cashier_url = _open_cashier(client, user, order, mobile=True)
    assert parse_qs(urlsplit(cashier_url).query)["method"] == ["alipay.trade.wap.pay"]


def test_query_and_close_an_unpaid_trade(client, fake_alipay):
    user, _product, order = order_to_pay()
    payment, _url = payment_start(order=order, provider_name="alipay")
    provider = provider_get("alipay")
    assert provider.query(payment) == "pending"  # not opened yet: Alipay does not know it
    provider.close(payment)  # closing a trade Alipay never saw is fine
    payment, _url = _open_cashier(client, user, order)
    provider.close(payment)
    assert fake_alipay.trades[payment.reference]["status"] == "TRADE_CLOSED"
    assert provider.query(payment) == "closed"


def test_tampered_notifies_are_refused_and_change_nothing(client, fake_alipay):
    user, _product, order = order_to_pay()
    payment, _url = _open_cashier(client, user, order)
    before = _state(order, user)
    url = fake_alipay.trades[payment.reference]["notify_url"]
    fields = fake_alipay.notify_fields(payment.reference, trade_status="TRADE_SUCCESS")
    for tampered in (
        {**fields, "trade_status": "TRADE_SUCCESS", "buyer_pay_amount": "0.01"},  # a signed field changed
        {**fields, "sign": fields["sign"][:-4] + "AAA="},
        {**fields, "sign": "not base64!"},
        {**fields, "sign_type": "RSA"},
        {k: v for k, v in fields.items() if k != "sign"},
        {**fields, "total_amount": "1e9999"},  # the amount is parsed before anything else
    ):
        assert fake_alipay.send(tampered, url) == (400, "fail")
    # signed by someone else's key, or for another app
    other = fake_alipay.notify_fields(payment.reference, trade_status="TRADE_SUCCESS", app_id="2021999")
    assert fake_alipay.send(other, url) == (400, "fail")
    assert _state(order, user) == before


def test_a_replayed_notify_is_a_no_op_that_still_says_success(client, fake_alipay):
    user, _product, order = order_to_pay()
    payment, _url = _open_cashier(client, user, order)
    (status, body), fields = fake_alipay.buyer_pays(payment.reference)
    assert body == "success"
    after_first = _state(order, user)
    assert fake_alipay.send(fields, fake_alipay.trades[payment.reference]["notify_url"]) == (200, "success")
    assert _state(order, user) == after_first


def test_a_notify_with_a_different_amount_is_refused(client, fake_alipay):
    user, _product, order = order_to_pay()
    payment, _url = _open_cashier(client, user, order)
    before = _state(order, user)
    (status, body), _fields = fake_alipay.notify(
        payment.reference, total_amount="0.01", trade_status="TRADE_SUCCESS"
    )
    assert (status, body) == (400, "fail")
    assert _state(order, user) == before


def test_a_notify_for_an_unknown_order_is_refused(client, fake_alipay):
    user, _product, order = order_to_pay()
    payment, _url = _open_cashier(client, user, order)
    before = _state(order, user)
    fields = fake_alipay.notify_fields("PAYNOSUCHTHING", trade_status="TRADE_SUCCESS")
    assert fake_alipay.send(fields, fake_alipay.trades[payment.reference]["notify_url"]) == (400, "fail")
    assert _state(order, user) == before


def test_a_late_notify_after_the_order_expired_refunds_at_alipay(client, fake_alipay):
    # given an order cancelled while the shopper was still at Alipay's cashier
    user, _product, order = order_to_pay()
    payment, _url = _open_cashier(client, user, order)
    order_cancel(order=order, note="expired")
    # when the payment's notify arrives after all
    (status, body), _fields = fake_alipay.buyer_pays(payment.reference)
    # then it is acknowledged, the order stays cancelled and the money goes back at Alipay
    assert (status, body) == (200, "success")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert not PointsEntry.objects.filter(user=user, order=order, reason=PointsEntry.Reason.PURCHASE).exists()
    assert sum(fake_alipay.trades[payment.reference]["refunds"].values()) == payment.amount


def test_a_notify_to_the_wrong_provider_or_a_sandbox_payment_is_refused(client, fake_alipay):
    user, _product, order = order_to_pay()
    sandbox_payment, _url = payment_start(order=order, provider_name="sandbox")
    fake_alipay.trades[sandbox_payment.reference] = {
        "trade_no": "1",
        "total": sandbox_payment.amount,
        "status": "TRADE_SUCCESS",
        "notify_url": "",
    }
    fields = fake_alipay.notify_fields(sandbox_payment.reference)
    response = client.post(reverse("shop:payment_notify", args=["alipay"]), fields)
    assert response.status_code == 400 and response.content == b"fail"
    sandbox_payment.refresh_from_db()
    assert sandbox_payment.status == Payment.Status.PENDING


def test_pay_page_offers_only_configured_methods(client, fake_alipay, settings):
    user, _product, order = order_to_pay()
    client.force_login(user)
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'value="alipay"' in page and 'value="wechat"' not in page
    settings.PAYMENT_PROVIDERS = ["sandbox"]
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'name="provider"' not in page
    # and a method that is not configured is refused
    response = client.post(
        reverse("shop:order_pay", args=[order.number]), {"provider": "alipay"}, follow=True
    )
    assert "不支持的支付方式" in response.content.decode()


def test_expired_unpaid_orders_are_closed_at_alipay(client, fake_alipay):
    # given an order whose shopper opened Alipay's cashier and left it for an hour
    user, _product, order = order_to_pay()
    payment, _url = _open_cashier(client, user, order)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=1))
    # when the unpaid orders are cancelled
    assert orders_cancel_unpaid() == 1
    # then the trade is closed at Alipay too, so the shopper can no longer pay it there
    assert fake_alipay.trades[payment.reference]["status"] == "TRADE_CLOSED"
    assert [r[1] for r in fake_alipay.requests][-1] == "alipay.trade.close"


def test_the_sandbox_page_cannot_settle_an_alipay_payment(client, fake_alipay):
    # given a member with an Alipay payment open (and the sandbox also configured)
    user, _product, order = order_to_pay()
    payment, _url = _open_cashier(client, user, order)
    # when they open the sandbox page for that payment's reference
    response = client.get(reverse("shop:sandbox_pay", args=[payment.reference]))
    # then there is no such sandbox payment: the page cannot sign a "paid" callback for it
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT


def test_without_the_sandbox_configured_its_page_is_not_found(client, settings):
    user, _product, order = order_to_pay()
    payment, _url = payment_start(order=order)
    settings.PAYMENT_PROVIDERS = ["alipay"]
    client.force_login(user)
    assert client.get(reverse("shop:sandbox_pay", args=[payment.reference])).status_code == 404
