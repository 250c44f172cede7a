"""SMS: one small interface (send(phone, template, params)); the backend is named by a setting.

Real providers (Aliyun, Tencent Cloud) plug in later as another backend class with the same `send`;
NOTIFICATIONS_SMS_BACKEND names it. Templates are the provider's template codes (our message kinds),
params the values they fill in; a backend raises on failure so the task retries.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from core.masking import mask_phone

logger = logging.getLogger(__name__)


class SmsBackend:
    def send(self, phone: str, template: str, params: dict) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    """Writes the message to the log (the phone masked): for development and tests."""

    sent: list = []  # (phone, template, params) of this process, newest last: what tests look at

    def send(self, phone, template, params):
        ConsoleSmsBackend.sent.append((phone, template, dict(params)))
        logger.info("sms to %s template=%s params=%s", mask_phone(phone), template, params)


def get_backend() -> SmsBackend:
    path = getattr(settings, "NOTIFICATIONS_SMS_BACKEND", "notifications.sms.ConsoleSmsBackend")
    return import_string(path)()


def send(phone: str, template: str, params: dict) -> None:
    get_backend().send(phone, template, params)
