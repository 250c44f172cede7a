"""A postal address: its fields, and the one rule for phone numbers and postcodes (site, API, services)."""

import phonenumbers
from django.utils.translation import gettext_lazy as _

ADDRESS_FIELDS = ("recipient_name", "phone", "province", "city", "district", "address_line", "postcode")
REQUIRED_ADDRESS_FIELDS = ("recipient_name", "phone", "province", "city", "address_line")

PHONE_INVALID = _("请输入有效的手机号或电话号码。")
POSTCODE_INVALID = _("邮编应为 6 位数字。")


def phone_normalise(value) -> str | None:
    """A phone number as stored (mainland numbers as dialled at home, e.g. 13800138000 or 01012345678;
    others in E.164), or None when it is not a possible number. One rule for forms, API and services."""
    text = str(value or "").strip()
    if not text or len(text) > 32:
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def postcode_normalise(value) -> str | None:
    """A mainland postcode (six digits), "" when left empty, None when invalid."""
    text = str(value or "").strip()
    if not text:
        return ""
    return text if len(text) == 6 and text.isascii() and text.isdigit() else None
