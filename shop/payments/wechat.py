"""WeChat Pay API v3 (微信支付) on wechatpayv3: Native QR and H5 payment, signed notifies, refund, query, close."""

import json
import logging
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import load_certificate

from core.errors import DomainError
from shop.payments.base import (
    CLOSED,
    PAID,
    PENDING,
    REFUNDED,
    CallbackResult,
    Checkout,
    NotifyRequest,
    ProviderError,
    RefundNotice,
    RefundResult,
    amount_from_fen,
    callback_refused,
    fen_from_amount,
    pay_deadline,
)

logger = logging.getLogger(__name__)
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
TRADE_STATE = {
    "SUCCESS": PAID,
    "REFUND": REFUNDED,  # 转入退款: some or all of it went back
    "NOTPAY": PENDING,
    "USERPAYING": PENDING,
    "CLOSED": CLOSED,
    "REVOKED": CLOSED,
    "PAYERROR": CLOSED,
}


class WechatPayProvider:
    """WeChat Pay v3: JSON requests signed with the merchant key, answers and notifies signed by the platform."""

    name = "wechat"
    label = gettext_lazy("微信支付")

    def __init__(
        self,
        *,
        mchid,
        appid,
        private_key_pem,
        cert_serial,
        apiv3_key,
        gateway,
        platform_cert_dir="",
        platform_public_key_pem="",
        platform_public_key_id="",
        timeout=15,
        notify_max_age=300,
        refund_notify_url="",
    ):
        self.mchid = str(mchid)
        self.appid = str(appid)
        self.notify_max_age = notify_max_age
        self.refund_notify_url = refund_notify_url
        # The serials whose notifies we accept: known before the library is asked, since the library
        # answers an unknown serial by refetching (and first forgetting) every platform certificate.
        self.platform_serials = set()
        if platform_public_key_pem:
            self.platform_serials.add(platform_public_key_id.upper().lstrip("0"))
        else:
            for pem in sorted(Path(platform_cert_dir).glob("*.pem")):
                certificate = load_certificate(pem.read_text())
                if certificate is not None:
                    self.platform_serials.add(f"{certificate.serial_number:X}")
            if not self.platform_serials:
                # Else the library would fetch them from the real gateway while it starts.
                raise DomainError(_("微信支付平台证书目录为空。"), code="provider_misconfigured")
        self.client = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=self.mchid,
            private_key=private_key_pem,
            cert_serial_no=cert_serial,
            appid=self.appid,
            apiv3_key=apiv3_key,
            cert_dir=platform_cert_dir or None,
            public_key=platform_public_key_pem or None,
            public_key_id=platform_public_key_id or None,
            timeout=(timeout, timeout),
        )
        # The library knows only the production gateway; ours comes from the settings.
        self.client._core._gate_way = gateway.rstrip("/")

    def start(self, payment) -> str:
        return reverse("shop:payment_go", kwargs={"provider": self.name, "reference": payment.reference})

    def _request(self, method, **kwargs):
        try:
            code, text = getattr(self.client, method)(**kwargs)
        except Exception:  # unreachable, or its answer's signature did not verify
            logger.exception("wechat pay %s failed", method)
            raise ProviderError(
                _("微信支付暂时无法处理，请稍后再试。"), code="provider_unavailable"
            ) from None
        try:
            body = json.loads(text) if text else {}
        except (TypeError, ValueError):
            body = {}
        return code, body

    def checkout(self, payment, *, mobile, client_ip, notify_url, return_url) -> Checkout:
        """Native (a code_url for a QR code) on desktops; H5 (a page to open) on phones."""
        fields = {
            "description": _("订单 %(number)s") % {"number": payment.order.number},
            "out_trade_no": payment.reference,
            "amount": {"total": fen_from_amount(payment.amount), "currency": "CNY"},
            "notify_url": notify_url,
            "time_expire": pay_deadline(payment).isoformat(timespec="seconds"),
        }
        if mobile:
            scene = {"payer_client_ip": client_ip or "127.0.0.1", "h5_info": {"type": "Wap"}}
            code, body = self._request("pay", pay_type=WeChatPayType.H5, scene_info=scene, **fields)
            key = "h5_url"
        else:
            code, body = self._request("pay", pay_type=WeChatPayType.NATIVE, **fields)
            key = "code_url"
        if code != 200 or not body.get(key):
            logger.warning("wechat pay order %s refused: %s %s", payment.reference, code, body)
            raise ProviderError(
                _("微信支付拒绝了下单：%(reason)s") % {"reason": body.get("message", code)},
                code="pay_refused",
            )
        if mobile:
            # WeChat sends the shopper back here after the H5 cashier.
            return Checkout(redirect_url=f"{body[key]}&redirect_url={quote(return_url, safe='')}")
        return Checkout(qr_code=body[key])

    def _read_notify(self, data: NotifyRequest) -> dict:
        """A notify, verified: fresh timestamp, known serial, platform signature over the raw body, then
        its resource decrypted with the APIv3 key (AES-256-GCM) and the merchant checked."""
        headers = {key.lower(): value for key, value in data.headers.items()}
        try:
            stamp = int(headers.get("wechatpay-timestamp", ""))
        except ValueError:
            raise callback_refused() from None
        if abs(time.time() - stamp) > self.notify_max_age:
            raise callback_refused(_("支付回调已过期。"), code="stale_callback")
        serial = headers.get("wechatpay-serial", "")
        if serial.upper().lstrip("0") not in self.platform_serials:
            raise callback_refused()
        if headers.get("wechatpay-signature-type", SIGNATURE_TYPE) != SIGNATURE_TYPE:
            raise callback_refused()
        library_headers = {
            "Wechatpay-Signature": headers.get("wechatpay-signature", ""),
            "Wechatpay-Timestamp": str(stamp),
            "Wechatpay-Nonce": headers.get("wechatpay-nonce", ""),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        }
        try:
            notify = self.client.callback(library_headers, data.body.decode("utf-8"))
        except Exception:  # not UTF-8, not JSON, another algorithm: a forgery, not a crash
            notify = None
        if not notify or not isinstance(notify.get("resource"), dict):
            raise callback_refused()
        if notify["resource"].get("mchid") != self.mchid:
            raise callback_refused()
        return notify

    def verify_callback(self, data: NotifyRequest) -> CallbackResult:
        """A payment notify (TRANSACTION.SUCCESS); its amount, integer fen, parsed strictly."""
        notify = self._read_notify(data)
        resource = notify["resource"]
        amount = resource.get("amount") if isinstance(resource.get("amount"), dict) else {}
        total = amount_from_fen(amount.get("total"))
        if str(notify.get("event_type", "")).startswith("REFUND."):
            raise DomainError(
                _("支付尚未完成。"), code="not_final"
            )  # a refund's news: refund_notice reads it
        if resource.get("appid") != self.appid:
            raise callback_refused()
        if notify.get("event_type") != "TRANSACTION.SUCCESS" or resource.get("trade_state") != "SUCCESS":
            raise DomainError(_("支付尚未完成。"), code="not_final")
        reference = str(resource.get("out_trade_no", ""))[:64]
        if not reference:
            raise DomainError(_("支付回调内容不完整。"), code="bad_callback")
        return CallbackResult(
            reference=reference,
            outcome="succeeded",
            amount=total,
            provider_trade_no=str(resource.get("transaction_id", ""))[:64],
        )

    def refund_notice(self, data: NotifyRequest) -> RefundNotice | None:
        """A refund notify (REFUND.SUCCESS / ABNORMAL / CLOSED) read and verified; None for other events."""
        notify = self._read_notify(data)
        if not str(notify.get("event_type", "")).startswith("REFUND."):
            return None
        resource = notify["resource"]
        amount = resource.get("amount") if isinstance(resource.get("amount"), dict) else {}
        refunded = amount_from_fen(amount.get("refund"))
        status = resource.get("refund_status")
        refund_no = str(resource.get("out_refund_no", ""))[:64]
        if not refund_no or status not in ("SUCCESS", "ABNORMAL", "CLOSED"):
            raise DomainError(_("支付回调内容不完整。"), code="bad_callback")
        return RefundNotice(
            refund_no=refund_no,
            amount=refunded,
            status="succeeded" if status == "SUCCESS" else "failed",
            provider_refund_no=str(resource.get("refund_id", ""))[:64],
        )

    def refund(self, payment, *, amount: Decimal, reason: str, refund_no: str) -> RefundResult:
        code, body = self._request(
            "refund",
            out_refund_no=refund_no,  # WeChat's idempotency key: a retry is the same refund
            out_trade_no=payment.reference,
            amount={
                "refund": fen_from_amount(amount),
                "total": fen_from_amount(payment.amount),
                "currency": "CNY",
            },
            reason=reason[:80],
            # Where WeChat says how a refund still "PROCESSING" ended (refund_notice reads it).
            notify_url=self.refund_notify_url or None,
        )
        status = body.get("status")
        if code != 200 or status not in ("SUCCESS", "PROCESSING"):
            logger.warning("wechat refund %s refused: %s %s", refund_no, code, body)
            raise ProviderError(
                _("微信支付拒绝了退款：%(reason)s") % {"reason": body.get("message", status or code)},
                code="refund_refused",
            )
        return RefundResult(
            refund_no=refund_no,
            amount=amount,
            status="succeeded" if status == "SUCCESS" else "processing",
            provider_refund_no=str(body.get("refund_id", "")),
        )

    def query(self, payment) -> str:
        code, body = self._request("query", out_trade_no=payment.reference)
        if code == 404:
            return PENDING  # ORDER_NOT_EXIST: the shopper never opened the cashier
        if code != 200 or body.get("trade_state") not in TRADE_STATE:
            raise ProviderError(_("微信支付暂时无法处理，请稍后再试。"), code="provider_unavailable")
        return TRADE_STATE[body["trade_state"]]

    def close(self, payment) -> None:
        code, body = self._request("close", out_trade_no=payment.reference)
        if code not in (200, 204):
            raise ProviderError(
                _("微信支付未能关闭交易：%(reason)s") % {"reason": body.get("message", code)},
                code="close_refused",
            )
