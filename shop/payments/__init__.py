"""Payment providers: one interface (base), the sandbox, Alipay and WeChat Pay; the settings choose which run."""

import logging
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import DomainError
from shop.payments.alipay import AlipayProvider
from shop.payments.base import (
    QUERY_STATUSES,
    CallbackResult,
    Checkout,
    NotifyRequest,
    PaymentProvider,
    ProviderError,
    RefundNotice,
    RefundResult,
)
from shop.payments.sandbox import SandboxProvider
from shop.payments.wechat import WechatPayProvider

__all__ = [
    "PROVIDERS",
    "QUERY_STATUSES",
    "AlipayProvider",
    "CallbackResult",
    "Checkout",
    "NotifyRequest",
    "PaymentProvider",
    "ProviderError",
    "RefundNotice",
    "RefundResult",
    "SandboxProvider",
    "WechatPayProvider",
    "payment_methods",
    "provider_close",
    "provider_default_name",
    "provider_get",
]

# The providers this code knows; PAYMENT_PROVIDERS says which of them run.
PROVIDERS = {"sandbox": SandboxProvider, "alipay": AlipayProvider, "wechat": WechatPayProvider}


def _read(path) -> str:
    return Path(path).read_text() if path else ""


def _public_url(path) -> str:
    """An absolute URL for a provider to call when no request is at hand (refunds); empty when unknown."""
    origin = settings.PAYMENT_PUBLIC_ORIGIN.rstrip("/")
    return f"{origin}{path}" if origin else ""


def _config(name) -> tuple:
    """The settings one provider is built from (a change of them, as in tests, builds it anew)."""
    s = settings
    if name == "alipay":
        return (
            ("app_id", s.ALIPAY_APP_ID),
            ("private_key_pem", _read(s.ALIPAY_PRIVATE_KEY_PATH)),
            ("alipay_public_key_pem", _read(s.ALIPAY_PUBLIC_KEY_PATH)),
            ("gateway", s.ALIPAY_GATEWAY),
            ("timeout", s.PAYMENT_TIMEOUT_SECONDS),
        )
    if name == "wechat":
        return (
            ("mchid", s.WECHATPAY_MCHID),
            ("appid", s.WECHATPAY_APPID),
            ("private_key_pem", _read(s.WECHATPAY_PRIVATE_KEY_PATH)),
            ("cert_serial", s.WECHATPAY_CERT_SERIAL),
            ("apiv3_key", s.WECHATPAY_APIV3_KEY),
            ("gateway", s.WECHATPAY_GATEWAY),
            ("platform_cert_dir", s.WECHATPAY_PLATFORM_CERT_DIR),
            ("platform_public_key_pem", _read(s.WECHATPAY_PLATFORM_PUBLIC_KEY_PATH)),
            ("platform_public_key_id", s.WECHATPAY_PLATFORM_PUBLIC_KEY_ID),
            ("timeout", s.PAYMENT_TIMEOUT_SECONDS),
            ("notify_max_age", s.WECHATPAY_NOTIFY_MAX_AGE_SECONDS),
            ("refund_notify_url", _public_url(reverse("shop:payment_notify", kwargs={"provider": "wechat"}))),
        )
    return ()


logger = logging.getLogger(__name__)
_built: dict[tuple, PaymentProvider] = {}


def provider_get(name="sandbox") -> PaymentProvider:
    """The provider called `name`, if the settings turn it on; built once per configuration."""
    if name not in PROVIDERS or name not in settings.PAYMENT_PROVIDERS:
        raise DomainError(_("不支持的支付方式。"), code="unknown_provider")
    key = (name, _config(name))
    if key not in _built:
        _built[key] = PROVIDERS[name](**dict(key[1]))
    return _built[key]


def payment_methods() -> list[tuple[str, str]]:
    """(name, label) of each provider the pay page offers, in the settings' order."""
    return [(name, PROVIDERS[name].label) for name in settings.PAYMENT_PROVIDERS if name in PROVIDERS]


def provider_default_name() -> str:
    """The provider used when the shopper did not choose (the first one the settings name)."""
    names = [name for name in settings.PAYMENT_PROVIDERS if name in PROVIDERS]
    return names[0] if names else "sandbox"


def provider_close(payment) -> None:
    """Close an unpaid payment at its provider, logging a refusal: called after the order's cancel commits.

    A provider that says the trade is already paid is not an error here: its notify will arrive and be
    refunded, since the order is no longer payable.
    """
    try:
        provider_get(payment.provider).close(payment)
    except DomainError as error:
        logger.warning(
            "could not close payment %s at %s: %s", payment.reference, payment.provider, error.code
        )
