"""Payment providers: a small interface, and a sandbox provider since no real gateway is reachable."""

import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.money import parse_money


@dataclass(frozen=True)
class CallbackResult:
    """A verified provider callback: which payment, and whether it succeeded, failed or was cancelled."""

    reference: str
    outcome: str  # "succeeded" | "failed" | "cancelled"
    amount: Decimal


class PaymentProvider(Protocol):
    name: str

    def start(self, payment) -> str:
        """Where to send the shopper to pay `payment` (a URL)."""

    def verify_callback(self, data) -> CallbackResult:
        """Check a callback's signature and read it; raise DomainError when it is not genuine."""


class SandboxProvider:
    """A pretend gateway: its page lets the shopper pay, fail or cancel and posts a signed callback."""

    name = "sandbox"
    OUTCOMES = ("succeeded", "failed", "cancelled")

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
        try:
            amount = parse_money(data.get("amount", ""))
        except DomainError as error:
            raise DomainError(
                _("支付回调金额无效：%(reason)s") % {"reason": error.message}, code="bad_callback"
            ) from None
        reference = str(data.get("reference", ""))[:64]
        outcome = str(data.get("outcome", ""))
        signature = str(data.get("signature", ""))
        if not reference or outcome not in self.OUTCOMES:
            raise DomainError(_("支付回调内容不完整。"), code="bad_callback")
        expected = self.sign(reference=reference, outcome=outcome, amount=amount)
        if not hmac.compare_digest(expected, signature):
            raise DomainError(_("支付回调签名无效。"), code="bad_signature")
        return CallbackResult(reference=reference, outcome=outcome, amount=amount)


PROVIDERS = {"sandbox": SandboxProvider()}


def provider_get(name="sandbox") -> PaymentProvider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise DomainError(_("不支持的支付方式。"), code="unknown_provider") from None
