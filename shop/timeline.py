"""Read-only: an order's timeline for staff (status changes, payments, parcels, after-sales, refunds, notes)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from shop.models import AfterSale, Order, OrderNote, OrderStatusChange, Payment, Refund, Shipment


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # status | payment | shipment | aftersale | refund | note
    title: str
    who: object  # a staff User or None (the member, a task, the provider)
    text: str = ""


def order_timeline(order: Order) -> list[TimelineEntry]:
    """Everything that happened to `order`, oldest first. Internal notes included: staff screens only."""
    entries = []
    for change in OrderStatusChange.objects.filter(order=order).select_related("changed_by"):
        title = _("状态：%(from)s → %(to)s") % {
            "from": change.get_from_status_display() or "—",
            "to": change.get_to_status_display(),
        }
        entries.append(TimelineEntry(change.created_at, "status", title, change.changed_by, change.note))
    for payment in Payment.objects.filter(order=order):
        title = _("支付 %(reference)s（%(provider)s）：%(amount)s 元，%(status)s") % {
            "reference": payment.reference,
            "provider": payment.provider,
            "amount": payment.amount,
            "status": payment.get_status_display(),
        }
        entries.append(TimelineEntry(payment.created_at, "payment", title, None))
    shipments = Shipment.objects.filter(order=order).select_related("shipped_by")
    for shipment in shipments.prefetch_related("lines__order_line"):
        lines = "，".join(f"{row.order_line.product_name} × {row.quantity}" for row in shipment.lines.all())
        title = _("发货：%(carrier)s %(tracking)s") % {
            "carrier": shipment.carrier,
            "tracking": shipment.tracking_number,
        }
        entries.append(TimelineEntry(shipment.created_at, "shipment", title, shipment.shipped_by, lines))
    for after_sale in AfterSale.objects.filter(order=order).select_related("decided_by"):
        title = _("售后 %(number)s（%(kind)s）：%(status)s") % {
            "number": after_sale.number,
            "kind": after_sale.get_kind_display(),
            "status": after_sale.get_status_display(),
        }
        text = after_sale.reason + (f" / {after_sale.staff_note}" if after_sale.staff_note else "")
        entries.append(TimelineEntry(after_sale.created_at, "aftersale", title, after_sale.decided_by, text))
    for refund in Refund.objects.filter(order=order).select_related("operator"):
        title = _("退款 %(reference)s：%(amount)s 元，%(status)s") % {
            "reference": refund.reference,
            "amount": refund.amount,
            "status": refund.get_status_display(),
        }
        entries.append(TimelineEntry(refund.created_at, "refund", title, refund.operator, refund.note))
    for note in OrderNote.objects.filter(order=order).select_related("author"):
        entries.append(TimelineEntry(note.created_at, "note", _("内部备注"), note.author, note.text))
    return sorted(entries, key=lambda entry: entry.at)
