"""Webhooks: signed POSTs to a receiver on loopback, retried with back-off, logged, replayed from the admin."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from members.services.points import points_staff_adjust
from notifications import tasks
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from notifications.services import webhooks
from shop.models import Order
from shop.services.orders import order_mark_paid
from shop.tests.factories import OrderLineFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "test-endpoint-secret"


class Receiver:
    """An ERP on loopback: checks each POST's signature and answers with the next scripted status."""

    def __init__(self):
        self.received = []  # (headers, body bytes, signature valid)
        self.statuses = []  # answered in order; 200 once they run out
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = webhooks.webhook_signature_verify(
                    secret=SECRET, header=self.headers.get("X-Shop-Signature", ""), body=body
                )
                receiver.received.append((dict(self.headers), body, valid))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if not valid:
                    status = 401
                payload = b'{"ok": true}' if status < 300 else b"warehouse is down" * 100
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def _endpoint(url, events=("order.*",)):
    return WebhookEndpoint.objects.create(name="ERP", url=url, secret=SECRET, events=list(events))


def _pending_order():
    line = OrderLineFactory(order__status=Order.Status.PENDING_PAYMENT, quantity=2)
    return line.order


def test_an_event_is_posted_signed_and_logged(receiver, django_capture_on_commit_callbacks):
    endpoint = _endpoint(receiver.url)
    _endpoint(receiver.url, events=["return.*"])  # not subscribed to orders: gets nothing
    order = _pending_order()
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order=order)
    ((headers, body, valid),) = receiver.received
    assert valid and headers["X-Shop-Event"] == "order.paid"
    event = json.loads(body)
    assert event["type"] == "order.paid" and event["data"]["order"]["number"] == order.number
    assert event["data"]["order"]["lines"][0]["quantity"] == 2
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.response_status == 200
    (attempt,) = delivery.attempt_log.all()
    assert attempt.succeeded and attempt.response_status == 200 and attempt.response_excerpt == '{"ok": true}'
    assert attempt.duration_ms >= 0
    assert str(delivery.event_id) == event["id"] == headers["X-Shop-Event-Id"]


def test_the_same_event_is_delivered_once_per_endpoint():
    endpoint = _endpoint("http://127.0.0.1:9/never")
    first = webhooks.webhook_event_emit(event_type="order.paid", key=7, data={"a": 1})
    again = webhooks.webhook_event_emit(event_type="order.paid", key=7, data={"a": 1})
    assert len(first) == 1 and again == []
    assert webhooks.webhook_event_emit(event_type="points.changed", key=7, data={}) == []
    assert endpoint.deliveries.count() == 1


def test_a_failing_endpoint_is_retried_with_back_off_and_logged(
    receiver, settings, eager_retries, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_MAX_RETRIES = 2
    receiver.statuses = [500, 503, 500]
    endpoint = _endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order=_pending_order())
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.attempts == 3
    statuses = list(delivery.attempt_log.values_list("response_status", flat=True))
    assert statuses == [500, 503, 500] and len(receiver.received) == 3
    assert "warehouse is down" in delivery.attempt_log.first().response_excerpt
    assert len(delivery.attempt_log.first().response_excerpt) <= 500
    # Every retry re-signs with a fresh time; the body is the same bytes.
    assert len({body for _h, body, _v in receiver.received}) == 1
    # Back-off: exponential from the base, capped.
    settings.WEBHOOKS_RETRY_BASE_SECONDS, settings.WEBHOOKS_RETRY_MAX_SECONDS = 30, 600
    delays = [webhooks.webhook_retry_delay(n) for n in range(6)]
    assert 30 <= delays[0] < 60 and 60 <= delays[1] < 90 and 240 <= delays[3] < 270 and delays[5] < 630


def test_an_unreachable_endpoint_is_logged_with_the_error(
    settings, eager_retries, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_MAX_RETRIES = 0
    endpoint = _endpoint("http://127.0.0.1:9/closed")
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order=_pending_order())
    (attempt,) = WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
    assert attempt.response_status is None and "refused" in attempt.error.lower() and not attempt.succeeded


def test_staff_replay_a_failed_delivery_from_the_admin(
    receiver, client, settings, eager_retries, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_MAX_RETRIES = 0
    receiver.statuses = [500]
    endpoint = _endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order=_pending_order())
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.FAILED

    client.force_login(StaffFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_webhookdelivery_changelist"),
            {"action": "replay", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 2
    replayed = delivery.attempt_log.get(number=2)
    assert replayed.replay and replayed.succeeded
    first_body, second_body = receiver.received[0][1], receiver.received[1][1]
    assert first_body == second_body and receiver.received[1][2]
    # The delivery page shows the log.
    page = client.get(reverse("admin:notifications_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and "warehouse is down" in page.content.decode()


def test_staff_register_an_endpoint_in_the_admin(client):
    client.force_login(StaffFactory())
    add = reverse("admin:notifications_webhookendpoint_add")
    assert client.get(add).status_code == 200
    response = client.post(
        add,
        {
            "name": "仓库",
            "url": "https://wms.example.test/hook",
            "secret": "s3cret",
            "events": ["order.*", "points.*"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(name="仓库")
    assert endpoint.subscribes_to("order.shipped") and endpoint.subscribes_to("points.changed")
    assert not endpoint.subscribes_to("return.decided")
    bad = client.post(add, {"name": "x", "url": "ftp://x.test/", "secret": "s", "events": ["*"]})
    assert bad.status_code == 200 and not WebhookEndpoint.objects.filter(name="x").exists()


def test_points_changes_reach_the_crm(receiver, django_capture_on_commit_callbacks):
    _endpoint(receiver.url, events=["points.*"])
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        points_staff_adjust(user=user, delta=50, staff=StaffFactory(), note="补偿")
    ((_headers, body, valid),) = receiver.received
    event = json.loads(body)
    assert valid and event["type"] == "points.changed"
    assert event["data"]["points"]["member"] == user.pk and event["data"]["points"]["available_delta"] == 50


def test_signature_verification_refuses_tampering_and_old_times():
    body = b'{"type": "order.paid"}'
    now = int(time.time())
    header = webhooks.webhook_signature(secret=SECRET, body=body, timestamp=now)
    assert webhooks.webhook_signature_verify(secret=SECRET, header=header, body=body)
    assert not webhooks.webhook_signature_verify(secret=SECRET, header=header, body=body + b" ")
    assert not webhooks.webhook_signature_verify(secret="other", header=header, body=body)
    old = webhooks.webhook_signature(secret=SECRET, body=body, timestamp=now - 3600)
    assert not webhooks.webhook_signature_verify(secret=SECRET, header=old, body=body)
    assert not webhooks.webhook_signature_verify(secret=SECRET, header="garbage", body=body)


def test_a_delivery_claimed_by_another_worker_is_not_posted_twice():
    _endpoint("http://127.0.0.1:9/never")
    (pk,) = webhooks.webhook_event_emit(event_type="order.paid", key=1, data={})
    WebhookDelivery.objects.filter(pk=pk).update(status=WebhookDelivery.Status.SENDING)
    from django.utils import timezone

    WebhookDelivery.objects.filter(pk=pk).update(claimed_at=timezone.now())
    assert tasks.webhook_deliver.delay(pk).get() == "busy"
    assert not WebhookAttempt.objects.exists()
