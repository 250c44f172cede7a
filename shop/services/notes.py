"""Internal staff notes on orders (never shown to the member)."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from shop.models import Order, OrderNote

NOTE_MAX = 2000


@transaction.atomic
def order_note_add(*, order: Order, author, text: str) -> OrderNote:
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise DomainError(_("备注不能为空。"), code="note_empty")
    if len(text) > NOTE_MAX:
        raise DomainError(_("备注最多 %(n)s 个字。") % {"n": NOTE_MAX}, code="note_too_long")
    return OrderNote.objects.create(order=order, author=author, text=text)
