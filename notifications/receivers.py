"""Notifications listen to the shop, membership and allauth: a member message and a webhook per event.

The shop sends its signals inside its transaction; these receivers write Delivery / WebhookDelivery
rows in a savepoint (so they commit with the order, and a repeated signal finds its key taken) and
enqueue the sending after commit. A failure here is logged and never refuses the shop's change.
"""

import logging
from functools import wraps

from allauth.account.signals import email_confirmed, user_signed_up
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import translation

from members.models import PointsEntry
from notifications.events import SITE
from notifications.services import messages, payloads, webhooks
from notifications.tasks import deliveries_enqueue
from shop import signals

logger = logging.getLogger(__name__)


def _never_refuses(handler):
    @wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            with transaction.atomic():
                handler(*args, **kwargs)
        except Exception:  # a message must never roll back a payment or a refund
            logger.exception("notification receiver %s failed", handler.__name__)

    return wrapper


def _order_news(order, *, event: str | None, ref, webhook: str, params: dict | None = None, data=None):
    delivery_ids = []
    if event and order.user_id:
        delivery_ids = messages.notification_queue(
            event=event, user=order.user, ref=ref, params={"order_id": order.pk, **(params or {})}
        )
    webhook_ids = webhooks.webhook_event_emit(
        event_type=webhook, key=ref, data=data if data is not None else (lambda: payloads.order_data(order))
    )
    deliveries_enqueue(delivery_ids, webhook_ids)


@receiver(signals.order_placed, dispatch_uid="notifications.order_placed")
@_never_refuses
def on_order_placed(sender, order, **kwargs):
    _order_news(order, event="order_placed", ref=order.pk, webhook="order.placed")


@receiver(signals.order_paid, dispatch_uid="notifications.order_paid")
@_never_refuses
def on_order_paid(sender, order, **kwargs):
    _order_news(order, event="order_paid", ref=order.pk, webhook="order.paid")


@receiver(signals.order_shipped, dispatch_uid="notifications.order_shipped")
@_never_refuses
def on_order_shipped(sender, order, shipment=None, **kwargs):
    ref = f"{order.pk}:{shipment.pk}" if shipment is not None else order.pk
    _order_news(order, event="order_shipped", ref=ref, webhook="order.shipped")


@receiver(signals.order_received, dispatch_uid="notifications.order_received")
@_never_refuses
def on_order_received(sender, order, **kwargs):
    _order_news(order, event=None, ref=order.pk, webhook="order.received")


@receiver(signals.order_completed, dispatch_uid="notifications.order_completed")
@_never_refuses
def on_order_completed(sender, order, **kwargs):
    _order_news(order, event=None, ref=order.pk, webhook="order.completed")


@receiver(signals.order_cancelled, dispatch_uid="notifications.order_cancelled")
@_never_refuses
def on_order_cancelled(sender, order, **kwargs):
    _order_news(order, event=None, ref=order.pk, webhook="order.cancelled")


@receiver(signals.order_refunded, dispatch_uid="notifications.order_refunded")
@_never_refuses
def on_order_refunded(sender, order, **kwargs):
    _order_news(order, event="order_refunded", ref=f"{order.pk}:all", webhook="order.refunded")


@receiver(signals.order_line_refunded, dispatch_uid="notifications.order_line_refunded")
@_never_refuses
def on_order_line_refunded(sender, order, refund, lines=(), whole_order=False, **kwargs):
    # A refund that settles the whole order is followed by order_refunded: the member hears once.
    event = None if whole_order else "order_refunded"
    data = lambda: payloads.refund_data(order, refund, lines, whole_order)  # noqa: E731
    _order_news(
        order,
        event=event,
        ref=f"{order.pk}:refund:{refund.pk}",
        webhook="order.line_refunded",
        params={"amount": str(refund.amount)},
        data=data,
    )


@receiver(signals.return_requested, dispatch_uid="notifications.return_requested")
@_never_refuses
def on_return_requested(sender, after_sale, **kwargs):
    data = lambda: payloads.after_sale_data(after_sale)  # noqa: E731
    deliveries_enqueue(
        webhook_ids=webhooks.webhook_event_emit(event_type="return.requested", key=after_sale.pk, data=data)
    )


@receiver(signals.return_decided, dispatch_uid="notifications.return_decided")
@_never_refuses
def on_return_decided(sender, after_sale, approved=None, **kwargs):
    approved = bool(approved if approved is not None else after_sale.status != "rejected")
    params = {"after_sale": after_sale.number, "approved": approved, "note": after_sale.staff_note}
    _order_news(
        after_sale.order,
        event="return_decided",
        ref=f"{after_sale.order_id}:{after_sale.pk}",
        webhook="return.decided",
        params=params,
        data=lambda: payloads.after_sale_data(after_sale),
    )


@receiver(post_save, sender=PointsEntry, dispatch_uid="notifications.points_entry")
@_never_refuses
def on_points_entry(sender, instance, created, **kwargs):
    # The ledger is append-only: each new row is one points event for the CRM.
    if created:
        ids = webhooks.webhook_event_emit(
            event_type="points.changed", key=instance.pk, data=lambda: payloads.points_entry_data(instance)
        )
        deliveries_enqueue(webhook_ids=ids)


@receiver(user_signed_up, dispatch_uid="notifications.user_signed_up")
@_never_refuses
def on_user_signed_up(sender, request, user, **kwargs):
    # Messages follow the language the member signed up in, until they choose another.
    language = translation.get_language() or ""
    messages.preference_update(user=user, language=language, opted_out=[])
    # The welcome e-mail waits for a verified address (email_confirmed); the site message does not.
    verified = user.emailaddress_set.filter(verified=True).exists()
    ids = messages.notification_queue(
        event="signup", user=user, ref=user.pk, channels=None if verified else (SITE,)
    )
    deliveries_enqueue(ids)


@receiver(email_confirmed, dispatch_uid="notifications.email_confirmed")
@_never_refuses
def on_email_confirmed(sender, request, email_address, **kwargs):
    user = email_address.user
    deliveries_enqueue(messages.notification_queue(event="signup", user=user, ref=user.pk))
