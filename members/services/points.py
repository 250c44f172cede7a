"""Points ledger: every change is one PointsEntry row written with the member's account row locked."""

import math
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from members.models import EarningRules, PointsAccount, PointsEntry, PointsLot

Reason = PointsEntry.Reason


def points_account_lock(*, user) -> PointsAccount:
    """The member's account row, created if missing, locked for the rest of the transaction."""
    PointsAccount.objects.get_or_create(user=user)
    return PointsAccount.objects.select_for_update().get(user=user)


def _lots_consume(*, user, points: int) -> None:
    """Take `points` from the member's lots, soonest-expiring first (FIFO)."""
    left = points
    for lot in (
        PointsLot.objects.select_for_update().filter(user=user, remaining__gt=0).order_by("expires_at", "id")
    ):
        take = min(left, lot.remaining)
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        left -= take
        if left == 0:
            return
    if left:
        # Lots and the cached balance disagree: refuse rather than go negative.
        raise DomainError(_("积分数据不一致，请联系客服。"), code="points_inconsistent")


def points_entry_write(
    *,
    user,
    reason,
    available_delta=0,
    pending_delta=0,
    order=None,
    staff=None,
    note="",
    idempotency_key=None,
    lot_expires_at=None,
) -> PointsEntry | None:
    """Append one ledger row and move the cached balances; None when the key or (order, reason) exists.

    Runs inside a transaction; locks the member's account row first.
    """
    with transaction.atomic():
        account = points_account_lock(user=user)
        if idempotency_key and PointsEntry.objects.filter(idempotency_key=idempotency_key).exists():
            return None
        if order is not None and PointsEntry.objects.filter(order=order, reason=reason).exists():
            return None
        available = account.available + available_delta
        pending = account.pending + pending_delta
        if available < 0:
            raise DomainError(
                _("积分不足：可用 %(n)s 分。") % {"n": account.available}, code="points_insufficient"
            )
        if pending < 0:
            raise DomainError(_("待入账积分不足。"), code="points_insufficient")
        if available_delta < 0:
            _lots_consume(user=user, points=-available_delta)
        try:
            with transaction.atomic():
                entry = PointsEntry.objects.create(
                    user=user,
                    reason=reason,
                    available_delta=available_delta,
                    pending_delta=pending_delta,
                    available_after=available,
                    pending_after=pending,
                    order=order,
                    staff=staff,
                    note=note,
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            # Someone else wrote the same (order, reason) or key between our check and insert.
            raise DomainError(_("该积分操作已处理。"), code="points_duplicate") from None
        PointsAccount.objects.filter(pk=account.pk).update(available=available, pending=pending)
        if available_delta > 0:
            rules = EarningRules.current()
            PointsLot.objects.create(
                user=user,
                entry=entry,
                points=available_delta,
                remaining=available_delta,
                expires_at=lot_expires_at or entry.created_at + timedelta(days=rules.expiry_days),
            )
        return entry


def points_for_amount(*, amount: Decimal, multiplier: Decimal = Decimal("1")) -> int:
    rules = EarningRules.current()
    return int((max(amount, Decimal("0")) * rules.points_per_yuan * multiplier).to_integral_value(ROUND_DOWN))


def points_value(*, points: int) -> Decimal:
    """What `points` are worth in yuan at the redemption rate, rounded down to a fen."""
    rules = EarningRules.current()
    return (Decimal(points) / Decimal(rules.redeem_points_per_yuan)).quantize(Decimal("0.01"), ROUND_DOWN)


def points_needed_for(*, value: Decimal) -> int:
    rules = EarningRules.current()
    return math.ceil(value * rules.redeem_points_per_yuan)


def points_staff_adjust(*, user, delta: int, staff, note: str) -> PointsEntry:
    """A staff correction: writes who and why; cannot take a member below zero."""
    if not delta:
        raise DomainError(_("调整数量不能为 0。"), code="points_zero")
    if not note.strip():
        raise DomainError(_("请填写调整原因。"), code="points_note_required")
    return points_entry_write(
        user=user, reason=Reason.STAFF, available_delta=delta, staff=staff, note=note.strip()
    )


def points_signup_gift(*, user) -> PointsEntry | None:
    rules = EarningRules.current()
    if not rules.signup_points:
        return None
    return points_entry_write(
        user=user,
        reason=Reason.SIGNUP,
        available_delta=rules.signup_points,
        idempotency_key=f"signup:{user.pk}",
    )


def points_review_reward(*, review) -> PointsEntry | None:
    rules = EarningRules.current()
    if not rules.review_points or review.user_id is None:
        return None
    return points_entry_write(
        user=review.user,
        reason=Reason.REVIEW,
        available_delta=rules.review_points,
        idempotency_key=f"review:{review.pk}",
        note=str(review.product)[:200],
    )


def points_review_reward_reverse(*, review, by=None) -> PointsEntry | None:
    """Take back a rejected review's reward (once). Points already spent are not taken below zero:
    the entry says how many could not be taken back, never silently."""
    if review.user_id is None:
        return None
    granted = (
        PointsEntry.objects.filter(idempotency_key=f"review:{review.pk}")
        .values_list("available_delta", flat=True)
        .first()
    )
    if not granted:
        return None
    account = points_account_lock(user=review.user)
    take = min(granted, account.available)
    note = str(review.product)[:150]
    if take < granted:
        note = f"{note}；" + _("积分已被使用，%(short)s 分未能扣回") % {"short": granted - take}
    return points_entry_write(
        user=review.user,
        reason=Reason.REVIEW_REVERSAL,
        available_delta=-take,
        idempotency_key=f"review:{review.pk}:reversed",
        staff=by if getattr(by, "is_authenticated", False) else None,
        note=note[:200],
    )


def points_order_earn(*, order, multiplier: Decimal) -> PointsEntry | None:
    """Credit pending points for a paid order (once), with the first-order bonus."""
    rules = EarningRules.current()
    paid_for_goods = order.total - order.shipping_fee
    points = points_for_amount(amount=paid_for_goods, multiplier=multiplier)
    first = (
        not PointsEntry.objects.filter(user_id=order.user_id, reason=Reason.PURCHASE)
        .exclude(order=order)
        .exists()
    )
    if first:
        points += rules.first_order_bonus
    if points <= 0:
        return None
    note = (
        _("含首单奖励 %(n)s 分") % {"n": rules.first_order_bonus} if first and rules.first_order_bonus else ""
    )
    return points_entry_write(
        user=order.user, reason=Reason.PURCHASE, pending_delta=points, order=order, note=note
    )


def points_order_release(*, order) -> PointsEntry | None:
    """Make an order's pending points available (once; nothing if already reversed)."""
    with transaction.atomic():
        points_account_lock(user=order.user)
        earned = PointsEntry.objects.filter(order=order, reason=Reason.PURCHASE).first()
        if (
            earned is None
            or PointsEntry.objects.filter(order=order, reason__in=[Reason.RELEASE, Reason.REFUND]).exists()
        ):
            return None
        left = points_order_pending(order=order)
        if left <= 0:
            return None
        return points_entry_write(
            user=order.user,
            reason=Reason.RELEASE,
            order=order,
            pending_delta=-left,
            available_delta=left,
        )


def points_order_reverse(*, order, staff=None) -> PointsEntry | None:
    """Take back what an order earned and no partial refund took yet (once): pending points in full,
    released ones as far as unspent, the shortfall written on the row."""
    with transaction.atomic():
        points_account_lock(user=order.user)
        earned = PointsEntry.objects.filter(order=order, reason=Reason.PURCHASE).first()
        if earned is None or PointsEntry.objects.filter(order=order, reason=Reason.REFUND).exists():
            return None
        share = refunded_share(order=order)
        owed = earned.pending_delta - _pro_rata(earned.pending_delta, share)
        return _earned_take_back(order=order, owed=owed, staff=staff, final=True, key=None)


# --- Partial refunds: each refund of lines takes back what they earned and returns what they used. ----------
# A partial refund's rows carry no order (the ledger keeps one row per order and reason) but a key
# "order:<id>:refund:<refund>:earned|used"; the order's last refund writes the order's own REFUND and
# REDEEM_REVERSAL rows. Shares are cumulative (floor(total x share refunded so far) minus the same before),
# so the parts add up to the whole exactly, whatever the order of the refunds.


def _partial_prefix(order) -> str:
    return f"order:{order.pk}:refund:"


def _pro_rata(points: int, share: Decimal) -> int:
    return int((Decimal(points) * share).to_integral_value(ROUND_DOWN))


def _lines_share(order, quantities) -> Decimal:
    """The share of the order's goods (by price, as discounts and points were spread) in `quantities`."""
    if not order.subtotal:
        return Decimal(1)
    worth = sum((line.line_total * quantity / line.quantity for line, quantity in quantities), Decimal(0))
    return min(worth / order.subtotal, Decimal(1))


def refunded_share(*, order) -> Decimal:
    """The share of the order's goods refunded so far (OrderLine.refunded_quantity)."""
    from shop.models import OrderLine

    lines = OrderLine.objects.filter(order=order, refunded_quantity__gt=0)
    return _lines_share(order, [(line, line.refunded_quantity) for line in lines])


def points_order_pending(*, order) -> int:
    """Points this order earned that are still pending (not released, not taken back)."""
    earned = PointsEntry.objects.filter(order=order, reason=Reason.PURCHASE).first()
    if (
        earned is None
        or PointsEntry.objects.filter(order=order, reason__in=[Reason.RELEASE, Reason.REFUND]).exists()
    ):
        return 0
    taken = PointsEntry.objects.filter(
        idempotency_key__startswith=_partial_prefix(order), idempotency_key__endswith=":earned"
    ).aggregate(s=Sum("pending_delta"))["s"]
    return max(earned.pending_delta + (taken or 0), 0)


def points_order_entries(*, order):
    """The ledger rows about one order, partial refunds included (what its page shows)."""
    from django.db.models import Q

    return PointsEntry.objects.filter(
        Q(order=order) | Q(idempotency_key__startswith=_partial_prefix(order))
    ).order_by("created_at", "id")


def _earned_take_back(*, order, owed: int, staff, final: bool, key) -> PointsEntry | None:
    """Take `owed` earned points back: from pending, or (released) from what is left, noting any shortfall."""
    if owed <= 0:
        return None
    account = points_account_lock(user=order.user)
    released = PointsEntry.objects.filter(order=order, reason=Reason.RELEASE).exists()
    note = _("订单 %(number)s 退款，扣回 %(n)s 分") % {"number": order.number, "n": owed}
    if released:
        take = min(owed, account.available)
        if take < owed:
            # Already spent: recorded on the row and shown on the order page, never silent.
            note += _("；积分已被使用，%(short)s 分未能扣回") % {"short": owed - take}
        deltas = {"available_delta": -take}
    else:
        deltas = {"pending_delta": -min(owed, account.pending)}
    return points_entry_write(
        user=order.user,
        reason=Reason.REFUND,
        order=order if final else None,
        idempotency_key=None if final else f"{key}:earned",
        staff=staff,
        note=note[:200],
        **deltas,
    )


def points_order_partial_refund(*, order, key: str, lines, final: bool, staff=None) -> list:
    """Lines of `order` = [(order_line, quantity)] were refunded (already counted on the lines): take back
    the points they earned and return the points they used, pro rata. `final`: nothing is left to refund."""
    written = []
    with transaction.atomic():
        points_account_lock(user=order.user)
        share_after = Decimal(1) if final else refunded_share(order=order)
        share_before = max(share_after - _lines_share(order, lines), Decimal(0))
        partial_key = f"{_partial_prefix(order)}{key}"
        earned = PointsEntry.objects.filter(order=order, reason=Reason.PURCHASE).first()
        if earned is not None and not PointsEntry.objects.filter(order=order, reason=Reason.REFUND).exists():
            total = earned.pending_delta
            owed = _pro_rata(total, share_after) - _pro_rata(total, share_before)
            written.append(
                _earned_take_back(order=order, owed=owed, staff=staff, final=final, key=partial_key)
            )
        spent = PointsEntry.objects.filter(order=order, reason=Reason.REDEEM).first()
        if (
            spent is not None
            and not PointsEntry.objects.filter(order=order, reason=Reason.REDEEM_REVERSAL).exists()
        ):
            used = -spent.available_delta
            give = _pro_rata(used, share_after) - _pro_rata(used, share_before)
            if give > 0:
                written.append(
                    points_entry_write(
                        user=order.user,
                        reason=Reason.REDEEM_REVERSAL,
                        order=order if final else None,
                        idempotency_key=None if final else f"{partial_key}:used",
                        available_delta=give,
                        staff=staff,
                        note=(
                            _("订单 %(number)s 退款，退回抵扣积分 %(n)s 分")
                            % {"number": order.number, "n": give}
                        )[:200],
                    )
                )
    return [entry for entry in written if entry is not None]


def points_redeem(*, user, order, points: int) -> PointsEntry | None:
    if points <= 0:
        return None
    return points_entry_write(user=user, reason=Reason.REDEEM, order=order, available_delta=-points)


def points_redeem_reverse(*, order) -> PointsEntry | None:
    """Give back points an order spent (once)."""
    with transaction.atomic():
        spent = PointsEntry.objects.filter(order=order, reason=Reason.REDEEM).first()
        if spent is None:
            return None
        used = -spent.available_delta
        give = used - _pro_rata(used, refunded_share(order=order))  # partial refunds returned the rest
        if give <= 0:
            return None
        return points_entry_write(
            user=spent.user,
            reason=Reason.REDEEM_REVERSAL,
            order=order,
            available_delta=give,
        )


def points_lot_expire(*, lot_id: int, now=None) -> PointsEntry | None:
    """Expire what is left of one lot, if it is due."""
    now = now or timezone.now()
    with transaction.atomic():
        lot = PointsLot.objects.select_related("user").get(pk=lot_id)
        points_account_lock(user=lot.user)
        lot = PointsLot.objects.select_for_update().get(pk=lot_id)
        if lot.remaining <= 0 or lot.expires_at > now:
            return None
        # _lots_consume takes FIFO, which starts with this (the soonest-expiring) lot.
        return points_entry_write(
            user=lot.user,
            reason=Reason.EXPIRE,
            available_delta=-lot.remaining,
            idempotency_key=f"expire:lot:{lot.pk}",
        )


def points_expire_due(*, now=None) -> int:
    """Expire every due lot; returns the number of lots expired."""
    now = now or timezone.now()
    count = 0
    for lot_id in (
        PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now)
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)
    ):
        if points_lot_expire(lot_id=lot_id, now=now):
            count += 1
    return count


def points_release_matured(*, now=None) -> int:
    """Release pending points of orders whose return window has closed; returns how many orders."""
    from shop.models import Order

    now = now or timezone.now()
    rules = EarningRules.current()
    cutoff = now - timedelta(days=rules.return_window_days)
    order_ids = (
        PointsEntry.objects.filter(
            reason=Reason.PURCHASE, order__status=Order.Status.COMPLETED, order__completed_at__lte=cutoff
        )
        .exclude(order__points_entries__reason__in=[Reason.RELEASE, Reason.REFUND])
        .values_list("order_id", flat=True)
    )
    count = 0
    for order in Order.objects.filter(pk__in=list(order_ids)).select_related("user"):
        if order.user_id and points_order_release(order=order):
            count += 1
    return count


def points_ledger_differences():
    """Members whose cached balances differ from their ledger or lots: [(user_id, field, cached, ledger)]."""
    ledger = {
        row["user_id"]: row
        for row in PointsEntry.objects.values("user_id").annotate(
            available=Sum("available_delta"), pending=Sum("pending_delta")
        )
    }
    lots = dict(
        PointsLot.objects.values("user_id").annotate(left=Sum("remaining")).values_list("user_id", "left")
    )
    differences = []
    for account in PointsAccount.objects.order_by("user_id").iterator():
        row = ledger.get(account.user_id, {"available": 0, "pending": 0})
        if account.available != (row["available"] or 0):
            differences.append((account.user_id, "available", account.available, row["available"] or 0))
        if account.pending != (row["pending"] or 0):
            differences.append((account.user_id, "pending", account.pending, row["pending"] or 0))
        if account.available != (lots.get(account.user_id) or 0):
            differences.append((account.user_id, "lots", account.available, lots.get(account.user_id) or 0))
    accounted = set(PointsAccount.objects.values_list("user_id", flat=True))
    for user_id, row in ledger.items():
        if user_id not in accounted and (row["available"] or row["pending"]):
            differences.append(
                (user_id, "account_missing", 0, (row["available"] or 0) + (row["pending"] or 0))
            )
    return differences
