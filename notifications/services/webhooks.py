"""Webhooks: signed JSON POSTs of order, return and points events to the endpoints staff register.

Each delivery's body is fixed when the event happens (so a replay sends the same bytes) and signed at
send time, Stripe-style: X-Shop-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>.
Signing the time with the body lets a receiver refuse old captures (webhook_signature_verify).
"""

import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from notifications.services.messages import CLAIM_TIMEOUT

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Shop-Signature"
EXCERPT_CHARS = 500


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(
    *, secret: str, header: str, body: bytes, tolerance: int = 300, now=None
) -> bool:
    """What a receiver does: the header parses, the time is recent and the digest matches."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def webhook_event_emit(*, event_type: str, key, data) -> list[int]:
    """Write one pending delivery per active endpoint subscribed to `event_type`; return the new ids.

    `data` is the event's payload, or a callable making it (built only when someone subscribes).
    `key` names the occurrence ("12" for order 12's payment): the same event emitted twice is sent once.
    Runs in the caller's transaction; the caller enqueues the ids after commit.
    """
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.subscribes_to(event_type)]
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    body = json.dumps(
        {
            "id": str(event_id),
            "type": event_type,
            "created": timezone.now(),
            "data": data() if callable(data) else data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        sort_keys=True,
    )
    created_ids = []
    with transaction.atomic():
        for endpoint in endpoints:
            delivery, created = WebhookDelivery.objects.get_or_create(
                endpoint=endpoint,
                event_key=f"{event_type}:{key}"[:120],
                defaults={"event_id": event_id, "event_type": event_type, "body": body},
            )
            if created:
                created_ids.append(delivery.pk)
    return created_ids


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not a new target: a POST is never re-sent somewhere else.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """(status, response excerpt, error) of one POST; never raises for network or HTTP errors."""
    body = delivery.body.encode()
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Shop-Webhooks/1",  # header values are Latin-1: not the shop's Chinese name
            "X-Shop-Event": delivery.event_type,
            "X-Shop-Event-Id": str(delivery.event_id),
            "X-Shop-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: webhook_signature(
                secret=delivery.endpoint.secret, body=body, timestamp=int(time.time())
            ),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOKS_TIMEOUT) as response:
            return response.status, response.read(4096).decode(errors="replace")[:EXCERPT_CHARS], ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(4096).decode(errors="replace")[:EXCERPT_CHARS], ""
    except Exception as exc:  # refused, timed out, bad TLS: logged on the attempt and retried
        return None, "", repr(exc)[:EXCERPT_CHARS]


def webhook_delivery_attempt(*, delivery_id: int, final: bool, replay: bool = False) -> str:
    """POST the delivery if this call claims it: "succeeded", "retry", "failed" or "busy".

    The claim is one conditional UPDATE (pending, or a sending claim gone stale), so two workers never
    post the same delivery at once; the POST runs outside any transaction or lock.
    """
    now = timezone.now()
    claimable = Q(status=WebhookDelivery.Status.PENDING) | Q(
        status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    )
    claimed = WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
        status=WebhookDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "busy"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    started = time.monotonic()
    status, excerpt, error = _post(delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status is not None and 200 <= status < 300
    if succeeded:
        outcome = WebhookDelivery.Status.SUCCEEDED
    else:
        outcome = WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            response_status=status,
            response_excerpt=excerpt,
            error=error,
            duration_ms=duration_ms,
            succeeded=succeeded,
            replay=replay,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=outcome,
            response_status=status,
            delivered_at=timezone.now() if succeeded else None,
        )
    if not succeeded:
        logger.warning(
            "webhook %s to endpoint %s failed: status=%s error=%s",
            delivery.pk,
            delivery.endpoint_id,
            status,
            error,
        )
    return "succeeded" if succeeded else ("failed" if final else "retry")


def webhook_deliveries_replay(*, deliveries) -> list[int]:
    """Put deliveries back to pending to be sent again (same event id and body); return their ids.

    A delivery a worker is sending right now is left alone.
    """
    ids = [d.pk for d in deliveries]
    WebhookDelivery.objects.filter(pk__in=ids).exclude(status=WebhookDelivery.Status.SENDING).update(
        status=WebhookDelivery.Status.PENDING
    )
    return list(
        WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDelivery.Status.PENDING).values_list(
            "pk", flat=True
        )
    )


def webhook_retry_delay(retries: int) -> int:
    """Seconds before retry number `retries` + 1: exponential from the base, capped, with some jitter."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    delay = min(base * (2**retries), settings.WEBHOOKS_RETRY_MAX_SECONDS)
    return int(delay + random.uniform(0, base))
