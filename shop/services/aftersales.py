"""After-sales (售后): a member asks to return or refund lines, staff decide, the money goes back per line.

Lock order everywhere: the order row, then the after-sale row, then the refund row. The provider's refund
call runs between two transactions, outside every lock (a slow gateway must not hold the order).
"""

import logging
import secrets
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_row
from shop import signals
from shop.models import (
    AfterSale,
    AfterSaleLine,
    AfterSalePhoto,
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    Product,
    Refund,
)
from shop.payments import provider_get
from shop.services.fulfilment import order_return_window_ends, shipped_quantities
from shop.services.orders import _transition

logger = logging.getLogger(__name__)
S = Order.Status
A = AfterSale.Status
FEN = Decimal("0.01")
MAX_PHOTOS = 6
REASON_MAX = 500


@dataclass(frozen=True)
class RefundPlan:
    amount: Decimal
    whole_order: bool
    lines: list  # [(order_line, quantity, amount)]


def _number(prefix):
    return f"{prefix}{timezone.now():%Y%m%d}{secrets.token_hex(5).upper()}"


def _staff(by):
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def aftersale_open_quantities(order, exclude=None) -> dict:
    """{order_line_id: units in after-sales still open} — held so two requests cannot claim one unit."""
    rows = AfterSaleLine.objects.filter(
        after_sale__order=order, after_sale__status__in=AfterSale.OPEN_STATUSES
    )
    if exclude is not None:
        rows = rows.exclude(after_sale=exclude)
    return dict(rows.values("order_line_id").annotate(n=Sum("quantity")).values_list("order_line_id", "n"))


def aftersale_kinds_allowed(order, *, now=None) -> list:
    """Which kinds of after-sale the member may ask for now (empty: none; the page says why)."""
    now = now or timezone.now()
    if order.status == S.PAID:
        return [AfterSale.Kind.REFUND_ONLY]  # before shipping: nothing to send back
    if order.status == S.RECEIVED and order_return_window_ends(order) > now:
        return [AfterSale.Kind.RETURN, AfterSale.Kind.REFUND_ONLY]
    return []


def _parse_lines(order, lines):
    """[(OrderLine, quantity)] from [(order_line_id, quantity)], every quantity a positive integer."""
    by_id = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    wanted = {}
    for line_id, quantity in lines:
        try:
            line_id, quantity = int(line_id), int(quantity)
        except (TypeError, ValueError):
            raise DomainError(_("退货数量必须是正整数。"), code="bad_quantity", field="lines") from None
        if quantity < 1:
            raise DomainError(_("退货数量必须是正整数。"), code="bad_quantity", field="lines")
        if line_id not in by_id:
            raise DomainError(_("所选商品不属于这个订单。"), code="bad_lines", field="lines")
        wanted[line_id] = wanted.get(line_id, 0) + quantity
    if not wanted:
        raise DomainError(_("请选择要退的商品和数量。"), code="no_lines", field="lines")
    return [(by_id[pk], qty) for pk, qty in sorted(wanted.items())]


@transaction.atomic
def aftersale_request(*, order: Order, user, kind: str, lines, reason: str, photos=()) -> AfterSale:
    """The member asks to return (or only refund) `lines` = [(order_line_id, quantity), ...]."""
    order = lock_row(Order.objects.all(), order.pk)
    if user is None or order.user_id != user.pk:
        raise DomainError(_("订单不存在。"), code="not_found")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写退货原因。"), code="reason_required", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("原因最多 500 字。"), code="reason_too_long", field="reason")
    if kind not in AfterSale.Kind.values:
        raise DomainError(_("请选择售后类型。"), code="bad_kind", field="kind")
    allowed = aftersale_kinds_allowed(order)
    if not allowed:
        if order.status == S.SHIPPED:
            message = _("商品在路上：请确认收货后再申请退货。")
        elif order.status in (S.RECEIVED, S.COMPLETED):
            message = _("已超过退货期，不能再申请退货。")
        else:
            message = _("订单当前状态为“%(status)s”，不能申请售后。") % {"status": order.get_status_display()}
        raise DomainError(message, code="after_sale_closed")
    if kind not in allowed:
        raise DomainError(
            _("订单还没发货，只能申请仅退款。"), code="refund_only_before_shipping", field="kind"
        )
    photos = list(photos or ())
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("最多上传 6 张图片。"), code="too_many_photos", field="photos")
    chosen = _parse_lines(order, lines)
    held = aftersale_open_quantities(order)
    shipped = shipped_quantities(order)
    for line, quantity in chosen:
        left = line.quantity - line.refunded_quantity - held.get(line.pk, 0)
        if quantity > left:
            raise DomainError(
                _("“%(name)s”最多还能退 %(n)s 件。") % {"name": line.product_name, "n": max(left, 0)},
                code="too_many",
                field="lines",
            )
        if order.status == S.PAID and shipped.get(line.pk):
            raise DomainError(
                _("“%(name)s”已经发出，请收货后再申请退货。") % {"name": line.product_name},
                code="already_shipped",
                field="lines",
            )
    after_sale = AfterSale.objects.create(
        number=_number("AS"), order=order, user=user, kind=kind, reason=reason
    )
    AfterSaleLine.objects.bulk_create(
        [AfterSaleLine(after_sale=after_sale, order_line=line, quantity=qty) for line, qty in chosen]
    )
    for upload in photos:
        photo = AfterSalePhoto(after_sale=after_sale, image=upload)
        try:
            photo.full_clean(exclude=["after_sale"])
        except ValidationError as error:
            messages = error.message_dict.get("image") or error.messages
            raise DomainError(messages[0], code="bad_photo", field="photos") from None
        photo.save()
    signals.return_requested.send(sender=AfterSale, after_sale=after_sale)
    return after_sale


def _lock_after_sale(after_sale) -> tuple[Order, AfterSale]:
    order_id = AfterSale.objects.values_list("order_id", flat=True).get(pk=after_sale.pk)
    order = lock_row(Order.objects.all(), order_id)
    return order, lock_row(AfterSale.objects.all(), after_sale.pk)


@transaction.atomic
def _aftersale_decide_locked(*, after_sale, approve: bool, by, note: str) -> AfterSale:
    order, after_sale = _lock_after_sale(after_sale)
    if after_sale.status != A.REQUESTED:
        raise DomainError(
            _("这个售后申请已经处理过（%(status)s）。") % {"status": after_sale.get_status_display()},
            code="already_decided",
        )
    note = (note or "").strip()[:REASON_MAX]
    if not approve and not note:
        raise DomainError(_("拒绝时请填写说明。"), code="note_required", field="note")
    after_sale.status = A.APPROVED if approve else A.REJECTED
    after_sale.staff_note = note
    after_sale.decided_by = _staff(by)
    after_sale.decided_at = timezone.now()
    after_sale.save(update_fields=["status", "staff_note", "decided_by", "decided_at"])
    signals.return_decided.send(sender=AfterSale, after_sale=after_sale, approved=approve)
    return after_sale


def aftersale_decide(*, after_sale: AfterSale, approve: bool, by, note: str = "") -> AfterSale:
    """Staff approve or reject (with a note); an approved refund-only is refunded at once."""
    after_sale = _aftersale_decide_locked(after_sale=after_sale, approve=approve, by=by, note=note)
    if approve and after_sale.kind == AfterSale.Kind.REFUND_ONLY:
        aftersale_refund(after_sale=after_sale, by=by, note=note)
        after_sale.refresh_from_db()
    return after_sale


@transaction.atomic
def _goods_receive_locked(*, after_sale, by) -> AfterSale:
    _order, after_sale = _lock_after_sale(after_sale)
    if after_sale.kind != AfterSale.Kind.RETURN or after_sale.status != A.APPROVED:
        raise DomainError(_("这个售后申请不在等待退货状态。"), code="invalid_transition")
    if after_sale.goods_received_at is None:
        after_sale.goods_received_at = timezone.now()
        after_sale.save(update_fields=["goods_received_at"])
    return after_sale


def aftersale_goods_receive(*, after_sale: AfterSale, by, note: str = "") -> AfterSale:
    """Staff got the returned goods: they go back to stock and the lines are refunded."""
    after_sale = _goods_receive_locked(after_sale=after_sale, by=by)
    aftersale_refund(after_sale=after_sale, by=by, note=note)
    after_sale.refresh_from_db()
    return after_sale


def _paid_payment(order) -> Payment:
    payment = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).order_by("pk").first()
    if payment is None:
        raise DomainError(_("这个订单没有可退的付款。"), code="nothing_paid")
    return payment


def _refunded_so_far(order) -> Decimal:
    return Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED).aggregate(s=Sum("amount"))[
        "s"
    ] or Decimal("0.00")


def refund_plan(*, order: Order, after_sale: AfterSale) -> RefundPlan:
    """What the after-sale's lines are worth: each line's share of the goods money actually paid
    (after coupon and points), rounded down to a fen; the refund that empties the order takes the rest,
    shipping included, so the refunds add up to what was paid exactly."""
    goods_paid = max(order.total - order.shipping_fee, Decimal("0.00"))  # as points were earned on it
    planned, total = [], Decimal("0.00")
    wanted = {row.order_line_id: row.quantity for row in after_sale.lines.all()}
    lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
    for line in lines:
        quantity = wanted.get(line.pk)
        if not quantity:
            continue
        share = line.line_total * quantity / line.quantity
        amount = (
            (goods_paid * share / order.subtotal).quantize(FEN, ROUND_DOWN) if order.subtotal else FEN * 0
        )
        planned.append((line, quantity, amount))
        total += amount
    whole = all(line.refunded_quantity + wanted.get(line.pk, 0) >= line.quantity for line in lines)
    if whole:
        total = order.total - _refunded_so_far(order)
    return RefundPlan(amount=total, whole_order=whole, lines=planned)


@transaction.atomic
def _refund_prepare(*, after_sale, by, note) -> Refund:
    order, after_sale = _lock_after_sale(after_sale)
    if after_sale.status != A.APPROVED:
        raise DomainError(
            _("这个售后申请当前为“%(status)s”，不能退款。") % {"status": after_sale.get_status_display()},
            code="invalid_transition",
        )
    if after_sale.kind == AfterSale.Kind.RETURN and after_sale.goods_received_at is None:
        raise DomainError(_("退货还没签收，收到后再退款。"), code="goods_not_back")
    if Refund.objects.filter(order=order, status=Refund.Status.PENDING).exists():
        raise DomainError(_("这个订单有一笔退款正在处理，请稍后再试。"), code="refund_in_progress")
    for row in after_sale.lines.select_related("order_line"):
        if row.order_line.refunded_quantity + row.quantity > row.order_line.quantity:
            raise DomainError(_("退货数量超过购买数量。"), code="too_many")
    payment = _paid_payment(order)
    plan = refund_plan(order=order, after_sale=after_sale)
    already = _refunded_so_far(order)
    lines_worth = sum((amount for _line, _qty, amount in plan.lines), Decimal("0.00"))
    if already + max(plan.amount, lines_worth) > payment.amount:
        raise DomainError(
            _("退款金额超过实付金额：已退 %(done)s 元，实付 %(paid)s 元。")
            % {"done": already, "paid": payment.amount},
            code="refund_exceeds_paid",
        )
    if plan.amount <= 0:
        raise DomainError(_("这些商品没有可退的金额。"), code="nothing_to_refund")
    after_sale.status = A.REFUNDING
    after_sale.save(update_fields=["status"])
    return Refund.objects.create(
        order=order,
        after_sale=after_sale,
        payment=payment,
        amount=plan.amount,
        reference=_number("RF"),
        whole_order=plan.whole_order,
        operator=_staff(by),
        note=(note or "")[:200],
    )


@transaction.atomic
def refund_fail(*, refund: Refund, message="") -> Refund:
    """The provider refused: the refund failed and the after-sale waits for another try."""
    refund = lock_row(Refund.objects.all(), refund.pk)
    if refund.status != Refund.Status.PENDING:
        return refund
    refund.status = Refund.Status.FAILED
    refund.note = (f"{refund.note} {message}".strip())[:200]
    refund.save(update_fields=["status", "note", "updated_at"])
    if refund.after_sale_id:
        AfterSale.objects.filter(pk=refund.after_sale_id, status=A.REFUNDING).update(status=A.APPROVED)
    return refund


@transaction.atomic
def refund_succeed(*, refund: Refund, provider_reference="") -> Refund:
    """The money went back: lines count as refunded, stock returns with the goods, points follow (signal).

    Applies once: a second call (a repeated provider notify) finds the refund settled and changes nothing.
    """
    order = lock_row(Order.objects.all(), Refund.objects.values_list("order_id", flat=True).get(pk=refund.pk))
    after_sale = lock_row(AfterSale.objects.all(), refund.after_sale_id)
    refund = lock_row(Refund.objects.all(), refund.pk)
    if refund.status != Refund.Status.PENDING:
        return refund
    refund.status = Refund.Status.SUCCEEDED
    refund.provider_reference = str(provider_reference or "")[:128]
    refund.save(update_fields=["status", "provider_reference", "updated_at"])
    shipped = shipped_quantities(order)
    plan = refund_plan(order=order, after_sale=after_sale)
    # Goods come back to stock when they were never sent, or when the parcel came back.
    restock = after_sale.kind == AfterSale.Kind.RETURN
    for line, quantity, _amount in plan.lines:
        updated = OrderLine.objects.filter(
            pk=line.pk, refunded_quantity__lte=F("quantity") - quantity
        ).update(refunded_quantity=F("refunded_quantity") + quantity)
        if not updated:
            raise DomainError(_("退货数量超过购买数量。"), code="too_many")
        if line.product_id is None:
            continue
        if restock or not shipped.get(line.pk):
            Product.objects.filter(pk=line.product_id).update(stock=F("stock") + quantity)
        Product.objects.filter(pk=line.product_id, sales_count__gte=quantity).update(
            sales_count=F("sales_count") - quantity
        )
    after_sale.status = A.REFUNDED
    after_sale.refunded_at = timezone.now()
    after_sale.save(update_fields=["status", "refunded_at"])
    signals.order_line_refunded.send(
        sender=Order,
        order=order,
        refund=refund,
        lines=plan.lines,
        whole_order=refund.whole_order,
    )
    if refund.whole_order:
        order = _transition(
            order,
            allowed_from={S.PAID, S.SHIPPED, S.RECEIVED, S.COMPLETED},
            to=S.REFUNDED,
            by=refund.operator,
            note=(_("售后 %(n)s 全部退款") % {"n": after_sale.number})[:200],
        )
        Payment.objects.filter(pk=refund.payment_id).update(status=Payment.Status.REFUNDED)
        signals.order_refunded.send(sender=Order, order=order)  # coupon and the rest of the points go back
    else:
        OrderStatusChange.objects.create(
            order=order,
            from_status=order.status,
            to_status=order.status,
            changed_by=refund.operator,
            note=(_("售后 %(n)s 退款 %(amount)s 元") % {"n": after_sale.number, "amount": refund.amount})[
                :200
            ],
        )
    return refund


def aftersale_refund(*, after_sale: AfterSale, by, note: str = "") -> Refund:
    """Refund an approved after-sale's lines through the payment provider (outside every lock)."""
    refund = _refund_prepare(after_sale=after_sale, by=by, note=note)
    provider = provider_get(refund.payment.provider)
    reason = (note or after_sale.reason or "")[:80]
    try:
        result = provider.refund(
            refund.payment, amount=refund.amount, reason=reason, refund_no=refund.reference
        )
    except DomainError as error:
        refund_fail(refund=refund, message=str(error.message))
        raise
    except Exception:
        logger.exception("refund %s failed at the provider", refund.reference)
        refund_fail(refund=refund, message="provider error")
        raise DomainError(_("支付渠道暂时无法退款，请稍后重试。"), code="provider_error") from None
    if getattr(result, "status", "succeeded") == "succeeded":
        return refund_succeed(refund=refund, provider_reference=getattr(result, "provider_refund_no", ""))
    return refund  # "processing": the provider's refund notify settles it (refund_succeed)


@transaction.atomic
def _in_full_prepare(*, order, by, note) -> AfterSale | None:
    order = lock_row(Order.objects.all(), order.pk)
    if not Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).exists():
        return None  # nothing paid through a provider here (a manual payment): the plain refund applies
    if order.status not in (S.PAID, S.SHIPPED, S.RECEIVED, S.COMPLETED):
        raise DomainError(
            _("订单当前状态为“%(status)s”，不能执行此操作。") % {"status": order.get_status_display()},
            code="invalid_transition",
        )
    if AfterSale.objects.filter(order=order, status__in=AfterSale.OPEN_STATUSES).exists():
        raise DomainError(_("这个订单有未处理的售后申请，请先处理。"), code="after_sale_open")
    lines = [
        (line, line.quantity - line.refunded_quantity)
        for line in OrderLine.objects.filter(order=order).order_by("pk")
        if line.quantity > line.refunded_quantity
    ]
    shipped = bool(shipped_quantities(order)) or order.status != S.PAID
    now = timezone.now()
    after_sale = AfterSale.objects.create(
        number=_number("AS"),
        order=order,
        user=order.user,
        # Shipped goods count as come back: staff refund in full when the parcel is returned or lost.
        kind=AfterSale.Kind.RETURN if shipped else AfterSale.Kind.REFUND_ONLY,
        status=A.APPROVED,
        reason=(note or _("商家整单退款"))[:REASON_MAX],
        staff_note=(note or "")[:REASON_MAX],
        decided_by=_staff(by),
        decided_at=now,
        goods_received_at=now if shipped else None,
    )
    AfterSaleLine.objects.bulk_create(
        [AfterSaleLine(after_sale=after_sale, order_line=line, quantity=qty) for line, qty in lines]
    )
    return after_sale


def order_refund_in_full(*, order: Order, by=None, note="") -> Order:
    """Staff refund everything not yet refunded through the payment provider (an after-sale records it);
    an order with no provider payment on record is refunded in the books only (shop.services.orders)."""
    from shop.services.orders import order_refund

    after_sale = _in_full_prepare(order=order, by=by, note=note)
    if after_sale is None:
        return order_refund(order=order, by=by, note=note)
    aftersale_refund(after_sale=after_sale, by=by, note=note)
    return Order.objects.get(pk=order.pk)
