"""Tier benefits (会员价, birthday-month points): what a member's tier takes off and adds."""

from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from members.models import PointsAccount, Profile, Tier
from shop.cache_keys import catalogue_changed

ZERO = Decimal("0.00")


def member_tier(user) -> Tier | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    account = PointsAccount.objects.filter(user=user).select_related("tier").first()
    return account.tier if account else None


def _covers(tier, product) -> bool:
    ids = {c.pk for c in tier.member_price_categories.all()}
    return not ids or product.category_id in ids or getattr(product.category, "parent_id", None) in ids


def member_price_for(*, tier, product) -> Decimal | None:
    """The member price of `product` at `tier` (会员价), or None when the tier has none for it."""
    if tier is None or not tier.member_price_percent or not _covers(tier, product):
        return None
    return (product.price * tier.member_price_percent / Decimal("100")).quantize(Decimal("0.01"), ROUND_DOWN)


def member_price_discount(*, user, lines) -> Decimal:
    """What the member's tier takes off `lines` = [(product, qty, line_total)] at member prices."""
    tier = member_tier(user)
    if tier is None or not tier.member_price_percent:
        return ZERO
    off = ZERO
    for product, _quantity, total in lines:
        if _covers(tier, product):
            off += (total * (100 - tier.member_price_percent) / Decimal("100")).quantize(
                Decimal("0.01"), ROUND_DOWN
            )
    return off


def birthday_multiplier(*, user_id, tier, at) -> Decimal:
    """The tier's birthday-month multiplier when `at` falls in the member's birthday month, else 1."""
    if tier is None or tier.birthday_multiplier <= 1:
        return Decimal("1")
    born = Profile.objects.filter(user_id=user_id).values_list("birth_date", flat=True).first()
    if born and born.month == timezone.localtime(at).month:
        return tier.birthday_multiplier
    return Decimal("1")


# Product pages list member prices from a per-process copy of the tiers (refreshed every minute and
# dropped when staff save a tier), so the page runs no extra query; checkout always reads the database.
_SHOWN = {"at": None, "tiers": []}
SHOWN_SECONDS = 60


def tiers_shown_forget(**_kwargs) -> None:
    _SHOWN["at"] = None
    catalogue_changed()  # product pages show member prices: cached copies go too (shop.cache_keys)


def member_prices_shown(*, product, now=None) -> list[tuple[Tier, Decimal]]:
    """[(tier, member price)] for `product`, lowest tier first: "会员价 银卡 ¥95 · 金卡 ¥90"."""
    now = now or timezone.now()
    at = _SHOWN["at"]
    if at is None or abs((now - at).total_seconds()) > SHOWN_SECONDS:
        tiers = list(
            Tier.objects.filter(member_price_percent__isnull=False)
            .order_by("position")
            .prefetch_related("member_price_categories")
        )
        _SHOWN.update(at=now, tiers=tiers)
    prices = ((tier, member_price_for(tier=tier, product=product)) for tier in _SHOWN["tiers"])
    return [(tier, price) for tier, price in prices if price is not None]


def tiers_shown_receivers_connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    post_save.connect(tiers_shown_forget, sender=Tier, dispatch_uid="tiers_shown_save")
    post_delete.connect(tiers_shown_forget, sender=Tier, dispatch_uid="tiers_shown_delete")
    m2m_changed.connect(
        tiers_shown_forget, sender=Tier.member_price_categories.through, dispatch_uid="tiers_shown_m2m"
    )
