"""Races on PostgreSQL: two workers given the same delivery send it once."""

import pytest
from django.core import mail

from core.testing import run_concurrently
from notifications.models import Delivery, WebhookAttempt, WebhookEndpoint
from notifications.services import messages, webhooks
from shop.tests.factories import OrderFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_send_one_e_mail():
    user = UserFactory()
    order = OrderFactory(user=user)
    ids = messages.notification_queue(
        event="order_paid", user=user, ref=order.pk, params={"order_id": order.pk}, channels=("email",)
    )
    outcomes = run_concurrently(*[lambda: messages.delivery_send(delivery_id=ids[0])] * 4)
    assert sorted(outcomes) == ["busy", "busy", "busy", "sent"]
    assert len([m for m in mail.outbox if m.to == [user.email]]) == 1
    assert Delivery.objects.get(pk=ids[0]).attempts == 1


def test_two_workers_post_one_webhook():
    WebhookEndpoint.objects.create(name="ERP", url="http://127.0.0.1:9/closed", secret="s", events=["*"])
    (pk,) = webhooks.webhook_event_emit(event_type="order.paid", key=1, data={})
    outcomes = run_concurrently(*[lambda: webhooks.webhook_delivery_attempt(delivery_id=pk, final=True)] * 4)
    assert sorted(outcomes) == ["busy", "busy", "busy", "failed"]
    assert WebhookAttempt.objects.filter(delivery_id=pk).count() == 1
