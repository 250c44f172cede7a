"""Notification tasks: thin entry points; each takes ids, claims its row and calls a service."""

from celery import shared_task
from django.conf import settings
from django.db import transaction

from notifications.services import messages, reminders, webhooks


@shared_task(
    bind=True,
    autoretry_for=(messages.DeliveryFailed,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=60,
    time_limit=90,
)
def delivery_send(self, delivery_id):
    return messages.delivery_send(delivery_id=delivery_id, final=self.request.retries >= self.max_retries)


@shared_task(bind=True, soft_time_limit=60, time_limit=90)
def webhook_deliver(self, delivery_id, replay=False):
    final = self.request.retries >= settings.WEBHOOKS_MAX_RETRIES
    outcome = webhooks.webhook_delivery_attempt(delivery_id=delivery_id, final=final, replay=replay)
    if outcome == "retry":
        raise self.retry(
            countdown=webhooks.webhook_retry_delay(self.request.retries),
            max_retries=settings.WEBHOOKS_MAX_RETRIES,
        )
    return outcome


def deliveries_enqueue(delivery_ids=(), webhook_ids=(), *, replay=False):
    """Send these after the current transaction commits (at once when there is none).

    Robust: a broker outage (or, with in-process tasks, a failed send) is logged and never fails the
    request that already committed; the rows stay pending for a retry or a replay.
    """
    for pk in delivery_ids:
        transaction.on_commit(lambda pk=pk: delivery_send.delay(pk), robust=True)
    for pk in webhook_ids:
        transaction.on_commit(lambda pk=pk: webhook_deliver.delay(pk, replay=replay), robust=True)


@shared_task(soft_time_limit=600, time_limit=900)
def points_expiring_remind():
    with transaction.atomic():
        delivery_ids, webhook_ids = reminders.points_expiring_remind()
        deliveries_enqueue(delivery_ids, webhook_ids)
    return len(delivery_ids)


@shared_task(soft_time_limit=600, time_limit=900)
def coupons_expiring_remind():
    with transaction.atomic():
        delivery_ids = reminders.coupons_expiring_remind()
        deliveries_enqueue(delivery_ids)
    return len(delivery_ids)
