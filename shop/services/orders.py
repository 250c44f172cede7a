"""An order's life after placement: payment, shipping, completion, cancellation and refund."""

import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_row, lock_row_or_none
from shop import signals
from shop.models import Event, Order, OrderLine, OrderStatusChange, Payment, Product
from shop.payments import provider_close, provider_get
from shop.services.events import event_record

logger = logging.getLogger(__name__)
S = Order.Status

UNPAID_ORDER_TIMEOUT = timedelta(minutes=30)
STATUS_TIME_FIELD = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.RECEIVED: "received_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
    S.REFUNDED: "refunded_at",
}


def _transition(order, *, allowed_from, to, by=None, note="") -> Order:
    locked = lock_row(Order.objects.all(), order.pk)
    if locked.status not in allowed_from:
        raise DomainError(
            _("订单当前状态为“%(status)s”，不能执行此操作。") % {"status": locked.get_status_display()},
            code="invalid_transition",
        )
    previous = locked.status
    locked.status = to
    now = timezone.now()
    fields = ["status"]
    if to in STATUS_TIME_FIELD:
        setattr(locked, STATUS_TIME_FIELD[to], now)
        fields.append(STATUS_TIME_FIELD[to])
    locked.save(update_fields=fields)
    OrderStatusChange.objects.create(
        order=locked,
        from_status=previous,
        to_status=to,
        changed_by=by if by is not None and by.is_authenticated else None,
        note=note[:200],
    )
    return locked


def _return_stock(order):
    # Units refunded through an after-sale already went back with it.
    for line in OrderLine.objects.filter(order=order, product__isnull=False).order_by("product_id"):
        units = line.quantity - line.refunded_quantity
        if units:
            Product.objects.filter(pk=line.product_id).update(stock=F("stock") + units)


@transaction.atomic
def order_mark_paid(*, order: Order, by=None, note="") -> Order:
    order = _transition(order, allowed_from={S.PENDING_PAYMENT}, to=S.PAID, by=by, note=note)
    lines = list(OrderLine.objects.filter(order=order, product__isnull=False).order_by("product_id"))
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(sales_count=F("sales_count") + line.quantity)
    signals.order_paid.send(sender=Order, order=order)  # points earned commit with the payment
    for line in lines:
        event_record(
            kind=Event.Kind.PURCHASE,
            user=order.user,
            product_id=line.product_id,
            value=line.quantity,
            context={"order": order.number},
        )
    return order


@transaction.atomic
def order_ship(*, order: Order, by=None, note="") -> Order:
    order = _transition(order, allowed_from={S.PAID}, to=S.SHIPPED, by=by, note=note)
    signals.order_shipped.send(sender=Order, order=order)
    return order


@transaction.atomic
def order_complete(*, order: Order, by=None, note="") -> Order:
    order = _transition(order, allowed_from={S.SHIPPED, S.RECEIVED}, to=S.COMPLETED, by=by, note=note)
    signals.order_completed.send(sender=Order, order=order)
    return order


@transaction.atomic
def order_cancel(*, order: Order, by=None, note="") -> Order:
    """Cancel an unpaid order: stock, coupon and points go back."""
    order = _transition(order, allowed_from={S.PENDING_PAYMENT}, to=S.CANCELLED, by=by, note=note)
    _return_stock(order)
    Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(status=Payment.Status.CANCELLED)
    signals.order_cancelled.send(sender=Order, order=order)  # coupon and points go back with it
    return order


@transaction.atomic
def order_refund(*, order: Order, by=None, note="") -> Order:
    """Refund a paid order in full: stock and sales go back, the payment is marked refunded."""
    order = _transition(
        order, allowed_from={S.PAID, S.SHIPPED, S.RECEIVED, S.COMPLETED}, to=S.REFUNDED, by=by, note=note
    )
    _return_stock(order)
    for line in OrderLine.objects.filter(order=order, product__isnull=False).order_by("product_id"):
        units = line.quantity - line.refunded_quantity
        Product.objects.filter(pk=line.product_id, sales_count__gte=units).update(
            sales_count=F("sales_count") - units
        )
    Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).update(
        status=Payment.Status.REFUNDED
    )
    signals.order_refunded.send(sender=Order, order=order)  # earned points are taken back with it
    return order


def orders_cancel_unpaid(*, older_than=UNPAID_ORDER_TIMEOUT) -> int:
    """Cancel orders left unpaid for longer than `older_than`; returns how many were cancelled."""
    cutoff = timezone.now() - older_than
    cancelled = 0
    stale = Order.objects.filter(status=S.PENDING_PAYMENT, created_at__lt=cutoff).values_list("pk", flat=True)
    for pk in list(stale):
        try:
            order_cancel(order=Order(pk=pk), note="unpaid for too long")
            cancelled += 1
        except DomainError:
            pass  # paid or cancelled meanwhile
        else:
            # Closed at the provider too, so it cannot be paid there: after the commit, outside the lock.
            for payment in Payment.objects.filter(order_id=pk, status=Payment.Status.CANCELLED):
                provider_close(payment)
    return cancelled


@transaction.atomic
def payment_start(*, order: Order, provider_name="sandbox") -> tuple[Payment, str]:
    """A pending payment for the order's total (reused if one is open) and the URL to pay it at."""
    order = lock_row(Order.objects.all(), order.pk)
    if not order.is_payable:
        raise DomainError(_("该订单无需付款。"), code="not_payable")
    provider = provider_get(provider_name)
    payment = Payment.objects.filter(
        order=order, status=Payment.Status.PENDING, provider=provider.name, amount=order.total
    ).first()
    if payment is None:
        payment = Payment.objects.create(
            order=order,
            provider=provider.name,
            amount=order.total,
            reference=f"PAY{secrets.token_hex(12).upper()}",
        )
    return payment, provider.start(payment)


@transaction.atomic
def payment_callback_handle(*, data, provider_name="sandbox") -> Payment:
    """Apply a provider callback once: a repeated callback finds the payment settled and changes nothing."""
    result = provider_get(provider_name).verify_callback(data)
    payment = lock_row_or_none(Payment.objects.filter(reference=result.reference))
    if payment is None:
        raise DomainError(_("找不到这笔支付。"), code="payment_not_found")
    if payment.status != Payment.Status.PENDING:
        return payment  # already settled: the first callback won
    if result.amount != payment.amount:
        raise DomainError(_("支付金额与订单不符。"), code="amount_mismatch")
    order = lock_row(Order.objects.all(), payment.order_id)
    if result.outcome == "succeeded":
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "updated_at"])
        if order.status == S.PENDING_PAYMENT:
            order_mark_paid(order=order, note=f"payment {payment.reference}")
        else:
            # Paid after the order was cancelled: the money goes straight back.
            logger.warning(
                "payment %s succeeded for %s order %s; refunded",
                payment.reference,
                order.status,
                order.number,
            )
            payment.status = Payment.Status.REFUNDED
            payment.save(update_fields=["status", "updated_at"])
    else:
        payment.status = Payment.Status.FAILED if result.outcome == "failed" else Payment.Status.CANCELLED
        payment.save(update_fields=["status", "updated_at"])
    return payment


def payment_sandbox_settle(*, order: Order, outcome: str) -> Payment:
    """Pay an order in the sandbox with the shopper's chosen outcome, as its payment page does.

    The page shows pay / fail / cancel buttons that post a signed callback; here the same provider
    signs the callback and the same handler applies it (two transactions, as on the page).
    """
    payment, _url = payment_start(order=order, provider_name="sandbox")
    callback = provider_get("sandbox").callback_fields(payment, outcome)
    return payment_callback_handle(data=callback, provider_name="sandbox")
