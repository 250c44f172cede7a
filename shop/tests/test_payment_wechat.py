"""WeChat Pay v3 adapter against a fake WeChat Pay gateway on loopback: Native and H5, notifies, refund, query."""

import json
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import PointsEntry
from shop.models import AfterSale, Order, OrderStatusChange, Payment, Refund
from shop.payments import provider_get
from shop.services.aftersales import aftersale_decide, aftersale_request
from shop.services.orders import order_cancel, orders_cancel_unpaid, payment_start
from shop.tests.factories import StaffFactory
from shop.tests.fake_gateways import rsa_key
from shop.tests.payment_support import fake_wechat, order_to_pay

FIXTURES = (fake_wechat,)  # used by name below
pytestmark = pytest.mark.django_db(transaction=True)


def _choose_wechat(client, user, order, *, mobile=False):
    """The shopper chooses WeChat Pay on the order page: a QR code on a desktop, WeChat's H5 page on a phone."""
    client.force_login(user)
    response = client.post(reverse("shop:order_pay", args=[order.number]), {"provider": "wechat"})
    page = client.get(
        response.url, HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14; Mobile)" if mobile else ""
    )
    return Payment.objects.get(order=order, provider="wechat"), page


def _state(order, user):
    order.refresh_from_db()
    return (
        order.status,
        list(order.payments.values_list("status", flat=True)),
        OrderStatusChange.objects.filter(order=order).count(),
        PointsEntry.objects.filter(user=user).count(),
    )


def _post_notify(client, body: str, headers: dict):
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return client.post(
        reverse("shop:payment_notify", args=["wechat"]), body, content_type="application/json", **meta
    )


def test_native_pay_notify_refund_query_the_whole_way(client, fake_wechat):
    # given a member who chooses WeChat Pay on a desktop: the site orders a Native payment, signed
    user, _product, order = order_to_pay()
    payment, page = _choose_wechat(client, user, order)
    assert page.status_code == 200 and "<svg" in page.content.decode()
    method, path, sent = fake_wechat.requests[-1]
    assert (method, path, sent["verified"]) == ("POST", "/v3/pay/transactions/native", True)
    assert sent["amount"] == {"total": int(payment.amount * 100), "currency": "CNY"}
    assert sent["notify_url"].endswith(reverse("shop:payment_notify", args=["wechat"]))
    # when the buyer scans and pays, and WeChat notifies the site (signed, resource encrypted)
    (status, body), _sent = fake_wechat.buyer_pays(payment.reference)
    # then the answer is a bare 204, the order is paid and the points are earned
    assert (status, body) == (204, b"")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.PAID and payment.status == Payment.Status.SUCCEEDED
    assert PointsEntry.objects.filter(user=user, order=order, reason=PointsEntry.Reason.PURCHASE).exists()
    # and a partial refund goes through the adapter, once even when retried with the same number
    provider = provider_get("wechat")
    result = provider.refund(payment, amount=Decimal("8.50"), reason="退货", refund_no="WX-RF1")
    again = provider.refund(payment, amount=Decimal("8.50"), reason="退货", refund_no="WX-RF1")
    assert result.status == "succeeded" and result.provider_refund_no == again.provider_refund_no
    assert fake_wechat.trades[payment.reference]["refunded"] == 850
    assert provider.query(payment) == "refunded"
    # more than what is left is refused by WeChat and reported as a domain error
    with pytest.raises(Exception) as refused:
        provider.refund(payment, amount=payment.amount, reason="退货", refund_no="WX-RF2")
    assert getattr(refused.value, "code", "") == "refund_refused"


def test_phones_get_the_h5_page_with_the_way_back(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, page = _choose_wechat(client, user, order, mobile=True)
    assert page.status_code == 302 and page.url.startswith("https://wx.tenpay.com/")
    back = parse_qs(urlsplit(page.url).query)["redirect_url"][0]
    assert back.endswith(reverse("shop:payment_return", args=["wechat", payment.reference]))
    _method, path, sent = fake_wechat.requests[-1]
    assert path == "/v3/pay/transactions/h5" and sent["scene_info"]["h5_info"] == {"type": "Wap"}


def test_query_and_close_an_unpaid_transaction(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _url = payment_start(order=order, provider_name="wechat")
    provider = provider_get("wechat")
    assert provider.query(payment) == "pending"  # WeChat has not seen it (ORDER_NOT_EXIST)
    payment, _page = _choose_wechat(client, user, order)
    assert provider.query(payment) == "pending"
    provider.close(payment)
    assert provider.query(payment) == "closed"


def test_tampered_notifies_are_refused_and_change_nothing(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    fake_wechat.trades[payment.reference]["state"] = "SUCCESS"
    before = _state(order, user)
    body = fake_wechat.notify_body(fake_wechat.transaction(payment.reference))
    headers = fake_wechat.signed_headers(body)
    cases = [
        (
            body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" '),
            headers,
        ),  # body changed after signing
        (body, {**headers, "Wechatpay-Signature": headers["Wechatpay-Signature"][:-8] + "AAAAAAA="}),
        (body, {**headers, "Wechatpay-Signature": "%%%"}),
        (body, {**headers, "Wechatpay-Serial": "ABCDEF"}),  # a certificate we do not know
        (body, {**headers, "Wechatpay-Serial": "not hex"}),
        (body, {**headers, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}),
        (body, fake_wechat.signed_headers(body, key=rsa_key())),  # signed by another key
        (body, {k: v for k, v in headers.items() if k != "Wechatpay-Timestamp"}),
        ("not json", fake_wechat.signed_headers("not json")),
    ]
    # a resource encrypted with another APIv3 key, correctly signed
    other = fake_wechat.notify_body(fake_wechat.transaction(payment.reference), key="k" * 32)
    cases.append((other, fake_wechat.signed_headers(other)))
    # a resource whose amount is not an integer number of fen
    for total in ("12850", 128.5, True, -1, 10**12):
        odd = fake_wechat.notify_body(fake_wechat.transaction(payment.reference, total=total))
        cases.append((odd, fake_wechat.signed_headers(odd)))
    # for another merchant
    foreign = fake_wechat.notify_body(fake_wechat.transaction(payment.reference, mchid="1900000002"))
    cases.append((foreign, fake_wechat.signed_headers(foreign)))
    for case_body, case_headers in cases:
        response = _post_notify(client, case_body, case_headers)
        assert response.status_code == 400, case_headers
        assert json.loads(response.content)["code"] == "FAIL"
    assert _state(order, user) == before
    # the platform certificates are still known: a genuine notify after all that still verifies
    assert _post_notify(client, body, fake_wechat.signed_headers(body)).status_code == 204


def test_a_late_signed_notify_is_refused(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    fake_wechat.trades[payment.reference]["state"] = "SUCCESS"
    before = _state(order, user)
    body = fake_wechat.notify_body(fake_wechat.transaction(payment.reference))
    stale = fake_wechat.signed_headers(body, timestamp=int(time.time()) - 3600)
    assert _post_notify(client, body, stale).status_code == 400
    assert _state(order, user) == before


def test_a_replayed_notify_is_a_no_op_that_still_says_success(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    (status, _body), (body, headers) = fake_wechat.buyer_pays(payment.reference)
    assert status == 204
    after_first = _state(order, user)
    assert fake_wechat.send(body, headers, fake_wechat.trades[payment.reference]["notify_url"])[0] == 204
    assert _state(order, user) == after_first


def test_a_notify_with_a_different_amount_is_refused(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    fake_wechat.trades[payment.reference]["state"] = "SUCCESS"
    before = _state(order, user)
    (status, _body), _sent = fake_wechat.notify(payment.reference, total=1)
    assert status == 400
    assert _state(order, user) == before


def test_a_notify_for_an_unknown_order_is_refused(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    before = _state(order, user)
    body = fake_wechat.notify_body(fake_wechat.transaction("PAYNOSUCHTHING"))
    assert _post_notify(client, body, fake_wechat.signed_headers(body)).status_code == 400
    assert _state(order, user) == before


def test_a_payment_after_the_order_was_cancelled_is_refunded_at_wechat(client, fake_wechat):
    # given an order cancelled while its QR code was still on the shopper's screen
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    order_cancel(order=order, note="expired")
    # when the buyer pays anyway and WeChat notifies
    (status, _body), (body, headers) = fake_wechat.buyer_pays(payment.reference)
    # then the notify is acknowledged, the order stays cancelled and the money goes back once
    assert status == 204
    assert fake_wechat.send(body, headers, fake_wechat.trades[payment.reference]["notify_url"])[0] == 204
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and payment.status == Payment.Status.REFUNDED
    assert not PointsEntry.objects.filter(user=user, order=order, reason=PointsEntry.Reason.PURCHASE).exists()
    assert fake_wechat.trades[payment.reference]["refunded"] == int(payment.amount * 100)
    assert list(fake_wechat.refunds) == [f"LATE{payment.reference}"]


def test_expired_unpaid_orders_are_closed_at_wechat(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert orders_cancel_unpaid() == 1
    assert fake_wechat.trades[payment.reference]["state"] == "CLOSED"


def test_answers_with_a_bad_platform_signature_are_not_trusted(client, fake_wechat):
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    fake_wechat.platform_key = rsa_key()  # the gateway now signs with a key the site does not know
    with pytest.raises(Exception) as refused:
        provider_get("wechat").query(payment)
    assert getattr(refused.value, "code", "") == "provider_unavailable"


def test_a_refund_wechat_is_still_processing_is_settled_by_its_notify(client, fake_wechat):
    # given a WeChat-paid order whose member asks for a refund, which staff approve
    user, _product, order = order_to_pay()
    payment, _page = _choose_wechat(client, user, order)
    fake_wechat.buyer_pays(payment.reference)
    fake_wechat.refunds_processing = True  # WeChat accepts it now and finishes later
    line = order.lines.first()
    after_sale = aftersale_request(
        order=order, user=user, kind=AfterSale.Kind.REFUND_ONLY, lines=[(line.pk, 1)], reason="不想要了"
    )
    aftersale_decide(after_sale=after_sale, approve=True, by=StaffFactory(), note="同意")
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.PENDING
    assert fake_wechat.refund_notify_urls[refund.reference].endswith(
        reverse("shop:payment_notify", args=["wechat"])
    )
    # a refund notify with another amount, or for a refund we never asked, is refused
    (status, _body), _sent = fake_wechat.refund_completes(refund.reference, refund=1)
    assert status == 400
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
    # when WeChat says the refund succeeded (twice, as it retries)
    (status, _body), (body, headers) = fake_wechat.refund_completes(refund.reference)
    assert status == 204
    assert fake_wechat.send(body, headers, fake_wechat.refund_notify_urls[refund.reference])[0] == 204
    # then the refund is settled once
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.provider_reference
    assert Refund.objects.filter(order=order).count() == 1
