"""Fulfilment: shipping lines with a carrier and tracking number, receipt (确认收货) and completion."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_row
from shop import signals
from shop.models import AfterSale, Order, OrderLine, OrderStatusChange, Shipment, ShipmentLine
from shop.services.orders import _transition

S = Order.Status


def auto_confirm_days() -> int:
    return getattr(settings, "SHOP_AUTO_CONFIRM_DAYS", 10)


def return_window_days() -> int:
    return getattr(settings, "SHOP_RETURN_WINDOW_DAYS", 7)


def order_return_window_ends(order: Order):
    """When returns close and the order completes: from receipt, or (estimated) from shipping; else None."""
    if order.received_at:
        return order.received_at + timedelta(days=return_window_days())
    if order.shipped_at:
        return order.shipped_at + timedelta(days=auto_confirm_days() + return_window_days())
    return None


def _lines_to_ship(order):
    """Lines with units still to send: bought, not refunded, not in a parcel yet."""
    shipped = set(
        ShipmentLine.objects.filter(order_line__order=order).values_list("order_line_id", flat=True)
    )
    return [
        line
        for line in OrderLine.objects.filter(order=order).order_by("pk")
        if line.pk not in shipped and line.quantity > line.refunded_quantity
    ]


@transaction.atomic
def shipment_create(
    *, order: Order, carrier: str, tracking_number: str, line_ids=None, by=None, note=""
) -> Shipment:
    """Send lines (all that remain when `line_ids` is None) in one parcel; the last parcel ships the order."""
    carrier, tracking_number = (carrier or "").strip()[:50], (tracking_number or "").strip()[:64]
    if not carrier or not tracking_number:
        raise DomainError(_("请填写快递公司和运单号。"), code="tracking_required")
    order = lock_row(Order.objects.all(), order.pk)
    if order.status != S.PAID:
        raise DomainError(
            _("订单当前状态为“%(status)s”，不能发货。") % {"status": order.get_status_display()},
            code="invalid_transition",
        )
    if AfterSale.objects.filter(order=order, status__in=AfterSale.OPEN_STATUSES).exists():
        raise DomainError(_("这个订单有未处理的售后申请，请先处理再发货。"), code="after_sale_open")
    remaining = _lines_to_ship(order)
    if line_ids is not None:
        wanted = {int(pk) for pk in line_ids}
        chosen = [line for line in remaining if line.pk in wanted]
        if not wanted or len(chosen) != len(wanted):
            raise DomainError(_("所选商品不属于这个订单，或已经发货。"), code="bad_lines")
    else:
        chosen = remaining
    if not chosen:
        raise DomainError(_("这个订单没有待发货的商品。"), code="nothing_to_ship")
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                order=order,
                carrier=carrier,
                tracking_number=tracking_number,
                shipped_by=by if by is not None and by.is_authenticated else None,
            )
    except IntegrityError:
        raise DomainError(_("这个运单号已经用过了。"), code="tracking_duplicate") from None
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=shipment, order_line=line, quantity=line.quantity - line.refunded_quantity)
            for line in chosen
        ]
    )
    if len(chosen) == len(remaining):
        order = _transition(order, allowed_from={S.PAID}, to=S.SHIPPED, by=by, note=note or str(shipment))
        signals.order_shipped.send(sender=Order, order=order, shipment=shipment)
    else:
        OrderStatusChange.objects.create(
            order=order,
            from_status=order.status,
            to_status=order.status,
            changed_by=by if by is not None and by.is_authenticated else None,
            note=(_("部分发货：%(parcel)s") % {"parcel": shipment})[:200],
        )
    return shipment


@transaction.atomic
def order_confirm_receipt(*, order: Order, by=None, note="") -> Order:
    """The member got the parcel (or the auto-confirm date came): the return window starts now."""
    order = _transition(order, allowed_from={S.SHIPPED}, to=S.RECEIVED, by=by, note=note)
    signals.order_received.send(sender=Order, order=order)
    return order


def order_has_open_after_sale(order) -> bool:
    return AfterSale.objects.filter(order=order, status__in=AfterSale.OPEN_STATUSES).exists()


@transaction.atomic
def order_complete_after_window(*, order: Order, now=None) -> Order:
    """Complete a received order whose return window has closed and that has no open after-sale."""
    now = now or timezone.now()
    order = lock_row(Order.objects.all(), order.pk)
    if order.status != S.RECEIVED:
        raise DomainError(_("订单不是已收货状态。"), code="invalid_transition")
    if order_return_window_ends(order) > now:
        raise DomainError(_("退货期还没有结束。"), code="window_open")
    if order_has_open_after_sale(order):
        raise DomainError(_("这个订单有未处理的售后申请。"), code="after_sale_open")
    from shop.services.orders import order_complete

    return order_complete(order=order, note="return window closed")


def orders_confirm_receipt_due(*, now=None) -> int:
    """Confirm receipt of orders shipped SHOP_AUTO_CONFIRM_DAYS ago or more; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=auto_confirm_days())
    done = 0
    for pk in list(
        Order.objects.filter(status=S.SHIPPED, shipped_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        try:
            order_confirm_receipt(order=Order(pk=pk), note="auto-confirmed")
            done += 1
        except DomainError:
            pass  # confirmed by the member meanwhile
    return done


def orders_complete_due(*, now=None) -> int:
    """Complete received orders whose return window closed (their pending points then become available)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=return_window_days())
    done = 0
    for pk in list(
        Order.objects.filter(status=S.RECEIVED, received_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        try:
            order_complete_after_window(order=Order(pk=pk), now=now)
            done += 1
        except DomainError:
            pass  # an open after-sale keeps it waiting; the next run looks again
    return done


def shipped_quantities(order) -> dict:
    """{order_line_id: units shipped} for the order."""
    return dict(
        ShipmentLine.objects.filter(order_line__order=order)
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
        .values_list("order_line_id", "n")
    )
