"""Provider notifies applied once (payments and refunds); money taken after a cancel goes back at the provider."""

import logging

from django.utils.translation import gettext as _

from core.errors import DomainError
from shop.models import Payment, Refund
from shop.payments import RefundNotice, provider_get
from shop.services.aftersales import refund_fail, refund_succeed
from shop.services.orders import payment_callback_handle

logger = logging.getLogger(__name__)


def payment_notify_apply(*, provider_name: str, data) -> Payment:
    """Verify a real provider's notify and apply it once; DomainError (nothing changed) when it is refused.

    A replay finds the payment settled and changes nothing. A payment that succeeds at the provider
    after its order was cancelled (the notify came late) is refunded there in full, and the order stays
    cancelled.
    """
    provider = provider_get(provider_name)
    notice = provider.refund_notice(data) if hasattr(provider, "refund_notice") else None
    if notice is not None:
        return refund_notice_apply(provider_name=provider.name, notice=notice).payment
    # Verified here first to know whose payment it is: a notify settles only a payment of its own provider.
    result = provider.verify_callback(data)
    before = Payment.objects.filter(reference=result.reference, provider=provider.name).first()
    if before is None:
        raise DomainError(_("找不到这笔支付。"), code="payment_not_found")
    if result.outcome == "succeeded" and before.status == Payment.Status.CANCELLED:
        if result.amount != before.amount:
            raise DomainError(_("支付金额与订单不符。"), code="amount_mismatch")
        # Conditional update: of two deliveries of the late notify, one wins and refunds.
        won = Payment.objects.filter(pk=before.pk, status=Payment.Status.CANCELLED).update(
            status=Payment.Status.REFUNDED
        )
        before.refresh_from_db()
        if won:
            _refund_late_payment(provider, before)
        return before
    payment = payment_callback_handle(data=data, provider_name=provider.name)
    if before.status == Payment.Status.PENDING and payment.status == Payment.Status.REFUNDED:
        _refund_late_payment(provider, payment)  # the handler found the order no longer payable
    return payment


def refund_notice_apply(*, provider_name: str, notice: RefundNotice) -> Refund:
    """Settle a refund the provider had accepted as processing: once; a replay changes nothing."""
    refund = (
        Refund.objects.select_related("payment")
        .filter(reference=notice.refund_no, payment__provider=provider_name)
        .first()
    )
    if refund is None:
        raise DomainError(_("找不到这笔退款。"), code="refund_not_found")
    if notice.amount != refund.amount:
        raise DomainError(_("退款金额与记录不符。"), code="amount_mismatch")
    if notice.status == "succeeded":
        return refund_succeed(refund=refund, provider_reference=notice.provider_refund_no)
    return refund_fail(refund=refund, message="refund failed at the provider")


def _refund_late_payment(provider, payment):
    # Outside any lock and after the status committed: a retry uses the same refund number, so the
    # provider refunds once however often this runs.
    logger.warning(
        "payment %s succeeded at %s after its order was cancelled; refunding",
        payment.reference,
        provider.name,
    )
    try:
        provider.refund(
            payment, amount=payment.amount, reason=_("订单已取消"), refund_no=f"LATE{payment.reference}"[:64]
        )
    except DomainError:
        logger.exception("late payment %s could not be refunded at %s", payment.reference, provider.name)
