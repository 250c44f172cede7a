"""The sandbox provider: a pretend gateway for development and the quick start (no keys needed)."""

import hashlib
import hmac
import threading
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from shop.payments.base import CLOSED, PAID, PENDING, REFUNDED, CallbackResult, RefundResult, amount_from_text


class SandboxProvider:
    """A pretend gateway: its page lets the shopper pay, fail or cancel and posts a signed callback.

    Refunds succeed at once and are recorded here (by refund number, like a real gateway's ledger), so a
    refund repeated with the same number is one refund and the total can never pass the amount paid.
    """

    name = "sandbox"
    label = gettext_lazy("模拟支付")
    OUTCOMES = ("succeeded", "failed", "cancelled")

    # The gateway's own books, per process (the sandbox has no server of its own).
    _lock = threading.Lock()
    refunds: dict[str, tuple[str, RefundResult]] = {}  # refund_no -> (payment reference, result)
    closed: set[str] = set()

    def start(self, payment) -> str:
        return reverse("shop:sandbox_pay", kwargs={"reference": payment.reference})

    @staticmethod
    def sign(*, reference, outcome, amount) -> str:
        message = f"{reference}|{outcome}|{Decimal(amount):.2f}".encode()
        return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()

    def callback_fields(self, payment, outcome) -> dict:
        """The hidden fields of the sandbox page's form for one outcome."""
        amount = f"{payment.amount:.2f}"
        return {
            "reference": payment.reference,
            "outcome": outcome,
            "amount": amount,
            "signature": self.sign(reference=payment.reference, outcome=outcome, amount=amount),
        }

    def verify_callback(self, data) -> CallbackResult:
        # The amount is parsed strictly first: anything else could make the signature's formatting
        # build a gigantic string for an anonymous caller.
        amount = amount_from_text(data.get("amount", ""))
        reference = str(data.get("reference", ""))[:64]
        outcome = str(data.get("outcome", ""))
        signature = str(data.get("signature", ""))
        if not reference or outcome not in self.OUTCOMES:
            raise DomainError(_("支付回调内容不完整。"), code="bad_callback")
        expected = self.sign(reference=reference, outcome=outcome, amount=amount)
        if not hmac.compare_digest(expected, signature):
            raise DomainError(_("支付回调签名无效。"), code="bad_signature")
        return CallbackResult(reference=reference, outcome=outcome, amount=amount)

    def refunded_total(self, reference) -> Decimal:
        return sum((r.amount for ref, r in self.refunds.values() if ref == reference), Decimal("0.00"))

    def refund(self, payment, *, amount, reason, refund_no) -> RefundResult:
        with self._lock:
            if refund_no in self.refunds:
                return self.refunds[refund_no][1]  # the same refund asked again: the first answer
            if payment.status not in ("succeeded", "refunded"):
                raise DomainError(_("这笔支付尚未成功，不能退款。"), code="refund_not_paid")
            if amount <= 0 or self.refunded_total(payment.reference) + amount > payment.amount:
                raise DomainError(_("退款金额超过了可退金额。"), code="refund_too_much")
            result = RefundResult(
                refund_no=refund_no, amount=amount, status="succeeded", provider_refund_no=f"SB{refund_no}"
            )
            self.refunds[refund_no] = (payment.reference, result)
            return result

    def query(self, payment) -> str:
        if payment.status in ("succeeded", "refunded"):
            refunded = self.refunded_total(payment.reference)
            return REFUNDED if payment.status == "refunded" or refunded >= payment.amount else PAID
        return CLOSED if payment.reference in self.closed else PENDING

    def close(self, payment) -> None:
        with self._lock:
            self.closed.add(payment.reference)
