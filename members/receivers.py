"""Membership listens to the shop: points, coupons and tiers follow an order's life and approved reviews.

Receivers only call membership's services (members.services.checkout_hooks, looked up at call time so
tests may replace them). The shop sends these inside its transaction: what they write commits with
the payment, the cancellation or the refund, and a refusal rolls it back.
"""

from django.dispatch import receiver

from members.services import checkout_hooks
from shop import signals


@receiver(signals.order_paid, dispatch_uid="members.order_paid")
def on_order_paid(sender, order, **kwargs):
    checkout_hooks.order_paid(order=order)


@receiver(signals.order_completed, dispatch_uid="members.order_completed")
def on_order_completed(sender, order, **kwargs):
    checkout_hooks.order_completed(order=order)


@receiver(signals.order_cancelled, dispatch_uid="members.order_cancelled")
def on_order_cancelled(sender, order, **kwargs):
    checkout_hooks.order_cancelled(order=order)


@receiver(signals.order_refunded, dispatch_uid="members.order_refunded")
def on_order_refunded(sender, order, **kwargs):
    checkout_hooks.order_refunded(order=order)


@receiver(signals.order_line_refunded, dispatch_uid="members.order_line_refunded")
def on_order_line_refunded(sender, order, refund, lines, whole_order, **kwargs):
    checkout_hooks.order_line_refunded(order=order, refund=refund, lines=lines, whole_order=whole_order)


@receiver(signals.review_approved, dispatch_uid="members.review_approved")
def on_review_approved(sender, review, **kwargs):
    checkout_hooks.review_approved(review=review)


@receiver(signals.review_rejected, dispatch_uid="members.review_rejected")
def on_review_rejected(sender, review, by=None, **kwargs):
    checkout_hooks.review_rejected(review=review, by=by)
