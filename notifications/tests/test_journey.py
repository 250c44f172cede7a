"""The whole after-sales road through the real services: each step tells the member and the ERP once."""

import json
from decimal import Decimal

import pytest
from django.core import mail

from notifications.models import Message, WebhookDelivery, WebhookEndpoint
from notifications.tests.test_webhooks import SECRET, Receiver
from shop.models import OrderLine
from shop.services.aftersales import aftersale_decide, aftersale_goods_receive, aftersale_request
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.services.fulfilment import order_confirm_receipt, shipment_create
from shop.services.orders import payment_sandbox_settle
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient_name": "李四",
    "phone": "13900139000",
    "province": "广东省",
    "city": "深圳市",
    "address_line": "南山区科技园 8 号",
}


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def test_buy_ship_return_one_line_and_hear_about_each_step(receiver, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(
        name="ERP", url=receiver.url, secret=SECRET, events=["order.*", "return.*"]
    )
    user, staff = UserFactory(), StaffFactory()
    a, b = ProductFactory(price=Decimal("100.00")), ProductFactory(price=Decimal("50.00"))
    with django_capture_on_commit_callbacks(execute=True):
        cart = cart_get_or_create(user=user)
        cart_add(cart=cart, product_id=a.pk, quantity=1)
        cart_add(cart=cart, product_id=b.pk, quantity=1)
        order = order_place(
            user=user, cart=cart, address=ADDRESS, shipping_method="express", idempotency_key="j1"
        )
    with django_capture_on_commit_callbacks(execute=True):
        payment_sandbox_settle(order=order, outcome="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(order=order, carrier="顺丰速运", tracking_number="SF1234567890", by=staff)
    shipped = [m for m in mail.outbox if "已发货" in m.subject]
    assert len(shipped) == 1 and "顺丰速运" in shipped[0].body and "SF1234567890" in shipped[0].body
    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        order = order_confirm_receipt(order=order, by=user)
        after_sale = aftersale_request(
            order=order,
            user=user,
            kind="return",
            lines=[(OrderLine.objects.get(order=order, product=a).pk, 1)],
            reason="不喜欢",
        )
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_decide(after_sale=after_sale, approve=True, by=staff, note="同意退货")
    decided = [m for m in mail.outbox if after_sale.number in m.subject]
    assert len(decided) == 1 and "同意退货" in decided[0].body
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_goods_receive(after_sale=after_sale, by=staff, note="已签收")
    refunded = [m for m in mail.outbox if "退款" in m.subject]
    assert len(refunded) == 1 and "¥" in refunded[0].body
    # One message of each kind in the message centre, and the ERP heard every step, signed.
    titles = list(Message.objects.filter(user=user).values_list("title", flat=True))
    assert len(titles) == 5 == len(set(titles))
    types = [json.loads(body)["type"] for _h, body, valid in receiver.received if valid]
    assert len(types) == len(receiver.received)
    assert {
        "order.placed",
        "order.paid",
        "order.shipped",
        "order.received",
        "return.requested",
        "return.decided",
    } <= set(types)
    assert "order.line_refunded" in types and "order.refunded" not in types
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).exists()
