"""Personal data stays out of the logs: a whole signup and checkout logged at DEBUG names no one."""

import logging
import re
import uuid

import pytest
from django.core import mail
from django.test import Client

from e2e import seed
from shop.models import Order, Payment

EMAIL = "privacy.person@example.com"
PERSONAL = {
    "recipient_name": "欧阳娜娜",
    "phone": "13912345678",
    "province": "四川省",
    "city": "成都市",
    "district": "武侯区",
    "address_line": "天府大道北段 1700 号 9 栋",
}


@pytest.mark.django_db(transaction=True)
def test_signup_and_checkout_leave_no_personal_data_in_the_logs(caplog):
    products = seed.catalogue()
    caplog.set_level(logging.DEBUG)
    client = Client()

    # a guest fills a cart, signs up, verifies the email and checks out
    client.post("/cart/add/", {"product_id": products["puer"].pk, "quantity": 1})
    response = client.post(
        "/accounts/signup/", {"email": EMAIL, "password1": seed.PASSWORD, "password2": seed.PASSWORD}
    )
    assert response.status_code == 302
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    assert client.post(link).status_code == 302
    response = client.post(
        "/checkout/",
        {**PERSONAL, "shipping_method": "standard", "idempotency_key": uuid.uuid4().hex, "points": 0},
    )
    assert response.status_code == 302
    order = Order.objects.get(user__email=EMAIL)
    from shop.payments import provider_get

    payment = Payment.objects.get(order=order)
    client.post("/pay/callback/", provider_get("sandbox").callback_fields(payment, "succeeded"))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    # a failed login with the address typed in is a classic leak into logs too
    Client().post("/accounts/login/", {"login": EMAIL, "password": "wrong"})

    # then nothing logged (message, arguments or traceback) carries the person's data
    assert caplog.records, "expected the journey to log something at DEBUG"
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    for label, value in [
        ("email", EMAIL),
        ("email user part", "privacy.person"),
        *[(field, PERSONAL[field]) for field in ("recipient_name", "phone", "address_line")],
    ]:
        assert value not in logged, f"{label} appears in the logs"
