"""What every payment provider offers the shop: start, notify, refund, query and close."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext as _

from core.errors import DomainError
from core.money import parse_money

# What `query` answers, whatever the provider calls it.
PENDING = "pending"  # created (or not yet seen by the provider) and not paid
PAID = "paid"
CLOSED = "closed"  # closed unpaid: it can no longer be paid
REFUNDED = "refunded"  # paid, then refunded in full
QUERY_STATUSES = (PENDING, PAID, CLOSED, REFUNDED)


@dataclass(frozen=True)
class CallbackResult:
    """A verified provider callback: which payment, and whether it succeeded, failed or was cancelled."""

    reference: str
    outcome: str  # "succeeded" | "failed" | "cancelled"
    amount: Decimal
    provider_trade_no: str = ""  # the provider's own id for the trade, when it sends one


@dataclass(frozen=True)
class RefundResult:
    """What the provider said to a refund: accepted at once ("succeeded") or still being processed."""

    refund_no: str
    amount: Decimal
    status: str  # "succeeded" | "processing"
    provider_refund_no: str = ""


@dataclass(frozen=True)
class RefundNotice:
    """A verified refund notify: how a refund that was still processing ended."""

    refund_no: str
    amount: Decimal
    status: str  # "succeeded" | "failed"
    provider_refund_no: str = ""


@dataclass(frozen=True)
class Checkout:
    """Where the shopper pays: a page to redirect to, or (WeChat Native) a code for a QR image."""

    redirect_url: str = ""
    qr_code: str = ""


@dataclass(frozen=True)
class NotifyRequest:
    """A notify exactly as it arrived: providers that sign the raw body (WeChat) need all of it."""

    body: bytes
    headers: dict = field(default_factory=dict)
    form: dict = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str
    label: str

    def start(self, payment) -> str:
        """Where to send the shopper to pay `payment` (a URL on this site or the provider's)."""

    def verify_callback(self, data) -> CallbackResult:
        """Check a callback's signature and read it; raise DomainError when it is not genuine."""

    def refund(self, payment, *, amount: Decimal, reason: str, refund_no: str) -> RefundResult:
        """Give `amount` of `payment` back; the same `refund_no` twice is one refund at the provider."""

    def query(self, payment) -> str:
        """The provider's view of the payment: one of QUERY_STATUSES."""

    def close(self, payment) -> None:
        """Make an unpaid payment unpayable at the provider (the order expired or was cancelled)."""


class ProviderError(DomainError):
    """The provider refused or could not be reached; the message is safe to show."""


def amount_from_text(text, *, field_name="amount") -> Decimal:
    """A yuan amount from outside ("12.30"), strictly, with the callback's own error message."""
    try:
        return parse_money(text)
    except DomainError as error:
        raise DomainError(
            _("支付回调金额无效：%(reason)s") % {"reason": error.message}, code="bad_callback"
        ) from None


def amount_from_fen(value) -> Decimal:
    """A fen amount from outside (WeChat's JSON integer), strictly: no bool, float or string."""
    if type(value) is not int or not 0 <= value <= 9_999_999_999:
        raise DomainError(
            _("支付回调金额无效：%(reason)s") % {"reason": _("金额必须是以分为单位的整数。")},
            code="bad_callback",
        )
    return amount_from_text(f"{value // 100}.{value % 100:02d}")


def fen_from_amount(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


def callback_refused(message=None, code="bad_signature") -> DomainError:
    return DomainError(message or _("支付回调签名无效。"), code=code)


# The same window as shop.services.orders.UNPAID_ORDER_TIMEOUT: the provider refuses payment after it.
ORDER_PAY_WINDOW = timedelta(minutes=30)


def pay_deadline(payment):
    return payment.order.created_at + ORDER_PAY_WINDOW
