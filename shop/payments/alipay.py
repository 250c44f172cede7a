"""Alipay (支付宝) on python-alipay-sdk: page and mobile-web payment, RSA2 notifies, refund, query, close."""

import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.utils import AliPayConfig
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from shop.payments.base import (
    CLOSED,
    PAID,
    PENDING,
    REFUNDED,
    CallbackResult,
    Checkout,
    ProviderError,
    RefundResult,
    amount_from_text,
    callback_refused,
    pay_deadline,
)

logger = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")  # Alipay reads every time it is given as Beijing time
SUCCESS_CODE = "10000"
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"


class AlipayProvider:
    """Alipay's open API (gateway.do): requests and notifies signed SHA256withRSA ("RSA2")."""

    name = "alipay"
    label = gettext_lazy("支付宝")
    # Alipay retries a notify (over about 25 hours) until the answer's body is exactly this.
    notify_success_body = "success"
    notify_failure_body = "fail"

    def __init__(self, *, app_id, private_key_pem, alipay_public_key_pem, gateway, timeout=15):
        self.app_id = str(app_id)
        self.gateway = gateway
        self.client = AliPay(
            appid=self.app_id,
            app_private_key_string=private_key_pem,
            alipay_public_key_string=alipay_public_key_pem,
            sign_type="RSA2",
            config=AliPayConfig(timeout=timeout),
        )
        # The library knows only Alipay's production and sandbox gateways; ours comes from the settings.
        self.client._gateway = gateway

    def start(self, payment) -> str:
        return reverse("shop:payment_go", kwargs={"provider": self.name, "reference": payment.reference})

    def checkout(self, payment, *, mobile, client_ip, notify_url, return_url) -> Checkout:
        """The signed URL of Alipay's cashier: alipay.trade.wap.pay on phones, alipay.trade.page.pay else."""
        fields = {
            "subject": _("订单 %(number)s") % {"number": payment.order.number},
            "out_trade_no": payment.reference,
            "total_amount": f"{payment.amount:.2f}",
            "return_url": return_url,
            "notify_url": notify_url,
            "time_expire": pay_deadline(payment).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        }
        if mobile:
            query = self.client.api_alipay_trade_wap_pay(quit_url=return_url, **fields)
        else:
            query = self.client.api_alipay_trade_page_pay(**fields)
        return Checkout(redirect_url=f"{self.gateway}?{query}")

    def verify_callback(self, data) -> CallbackResult:
        """An asynchronous notify (form-encoded POST): amount first, then app, sign type and signature."""
        form = {key: data.get(key) for key in data}
        amount = amount_from_text(form.get("total_amount", ""))
        signature = form.pop("sign", None)
        if not signature or form.get("sign_type") != "RSA2" or form.get("app_id") != self.app_id:
            raise callback_refused()
        # As Alipay's own SDKs: every parameter but sign and sign_type, empty ones left out, sorted.
        signed = {key: value for key, value in form.items() if value not in (None, "")}
        try:
            genuine = self.client.verify(signed, signature)
        except Exception:  # bad base64, an unknown sign type: a forgery, not a crash
            genuine = False
        if not genuine:
            raise callback_refused()
        status = form.get("trade_status", "")
        reference = str(form.get("out_trade_no", ""))[:64]
        if not reference:
            raise DomainError(_("支付回调内容不完整。"), code="bad_callback")
        if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            outcome = "succeeded"
        elif status == "TRADE_CLOSED":
            outcome = "cancelled"
        else:  # WAIT_BUYER_PAY: news, not an outcome
            raise DomainError(_("支付尚未完成。"), code="not_final")
        return CallbackResult(
            reference=reference,
            outcome=outcome,
            amount=amount,
            provider_trade_no=str(form.get("trade_no", ""))[:64],
        )

    def _call(self, method, **kwargs) -> dict:
        try:
            return getattr(self.client, method)(**kwargs)
        except Exception:
            logger.exception("alipay %s failed", method)
            raise ProviderError(_("支付宝暂时无法处理，请稍后再试。"), code="provider_unavailable") from None

    def refund(self, payment, *, amount: Decimal, reason: str, refund_no: str) -> RefundResult:
        response = self._call(
            "api_alipay_trade_refund",
            refund_amount=f"{amount:.2f}",
            out_trade_no=payment.reference,
            out_request_no=refund_no,  # Alipay's idempotency key: a retry is the same refund
            refund_reason=reason[:256],
        )
        if response.get("code") != SUCCESS_CODE:
            logger.warning("alipay refund %s refused: %s", refund_no, response)
            raise ProviderError(
                _("支付宝拒绝了退款：%(reason)s")
                % {"reason": response.get("sub_msg") or response.get("msg")},
                code="refund_refused",
            )
        return RefundResult(
            refund_no=refund_no,
            amount=amount,
            status="succeeded",
            provider_refund_no=str(response.get("trade_no", "")),
        )

    def query(self, payment) -> str:
        response = self._call("api_alipay_trade_query", out_trade_no=payment.reference)
        if response.get("code") != SUCCESS_CODE:
            if response.get("sub_code") == TRADE_NOT_EXIST:
                return PENDING  # the shopper never opened the cashier
            raise ProviderError(_("支付宝暂时无法处理，请稍后再试。"), code="provider_unavailable")
        status = response.get("trade_status")
        if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return PAID
        if status == "TRADE_CLOSED":
            # Alipay closes a trade both when it expires unpaid and when it is refunded in full.
            return REFUNDED if payment.status in ("succeeded", "refunded") else CLOSED
        return PENDING

    def close(self, payment) -> None:
        response = self._call("api_alipay_trade_close", out_trade_no=payment.reference)
        if response.get("code") != SUCCESS_CODE and response.get("sub_code") != TRADE_NOT_EXIST:
            raise ProviderError(
                _("支付宝未能关闭交易：%(reason)s")
                % {"reason": response.get("sub_msg") or response.get("msg")},
                code="close_refused",
            )
