"""Money from outside (callbacks, forms, API): parsed strictly before anything else looks at it."""

import re
from decimal import Decimal

from django.utils.translation import gettext as _

from core.errors import DomainError

# Plain digits and at most two decimals: no exponent, sign, spaces, NaN or Infinity, so no input can
# make Decimal build a huge number (1e100000000 takes a second to format; larger ones are a 500).
MONEY_PATTERN = re.compile(r"\d{1,10}(?:\.\d{1,2})?", re.ASCII)
MONEY_MAX = Decimal("99999999.99")  # the widest DecimalField(max_digits=10, decimal_places=2) holds


def parse_money(value, *, maximum: Decimal = MONEY_MAX, field: str | None = None) -> Decimal:
    """`value` ("12", "12.3", "12.34") as a Decimal with two places; DomainError for anything else."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if len(text) > 16 or not MONEY_PATTERN.fullmatch(text):
        raise DomainError(_("金额格式无效：只能是数字，最多两位小数。"), code="invalid_amount", field=field)
    amount = Decimal(text).quantize(Decimal("0.01"))
    if amount > maximum:
        raise DomainError(
            _("金额超出允许的最大值 %(maximum)s。") % {"maximum": f"{maximum:.2f}"},
            code="invalid_amount",
            field=field,
        )
    return amount
