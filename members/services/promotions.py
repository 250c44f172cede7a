"""Threshold promotions (满减, 每满减): the best one for a cart, and how much more would unlock the next."""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Promotion
from shop.cache_keys import catalogue_changed

ZERO = Decimal("0.00")


def promotions_active(*, now=None) -> list[Promotion]:
    now = now or timezone.now()
    return list(
        Promotion.objects.filter(is_active=True)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .prefetch_related("categories")
    )


def _category_ids(promotion) -> set[int] | None:
    """The categories a promotion covers (with their direct subcategories), or None for everything."""
    ids = {c.pk for c in promotion.categories.all()}
    if not ids:
        return None
    from shop.models import Category

    return ids | set(Category.objects.filter(parent_id__in=ids).values_list("pk", flat=True))


def promotion_applies_to(promotion, product) -> bool:
    ids = _category_ids(promotion)
    return ids is None or product.category_id in ids


def _eligible(promotion, lines) -> Decimal:
    ids = _category_ids(promotion)
    return sum((total for product, _q, total in lines if ids is None or product.category_id in ids), ZERO)


def promotion_discount_for(promotion, eligible: Decimal) -> Decimal:
    """满减: the amount once over the threshold; 每满减: the amount per whole threshold, up to the cap."""
    if eligible < promotion.threshold:
        return ZERO
    if promotion.kind == Promotion.Kind.EVERY:
        times = (eligible / promotion.threshold).to_integral_value(ROUND_DOWN)
        discount = promotion.amount * times
        if promotion.max_discount is not None:
            discount = min(discount, promotion.max_discount)
    else:
        discount = promotion.amount
    return min(discount, eligible).quantize(Decimal("0.01"))


def promotion_best(*, lines, now=None) -> tuple[Promotion | None, Decimal]:
    """The one promotion that takes the most off `lines` = [(product, qty, line_total)] (one per order)."""
    best, best_discount = None, ZERO
    for promotion in promotions_active(now=now):
        discount = promotion_discount_for(promotion, _eligible(promotion, lines))
        if discount > best_discount:
            best, best_discount = promotion, discount
    return best, best_discount


@dataclass
class PromotionHint:
    promotion: Promotion
    eligible: Decimal
    discount: Decimal  # what it takes off now
    short: Decimal  # how much more to add to reach the next step (0 when no next step)
    next_discount: Decimal  # what it would take off then

    @property
    def message(self) -> str:
        if self.short > 0:
            return str(
                _("再买 ¥%(short)s 可减 %(amount)s")
                % {"short": _plain(self.short), "amount": _plain(self.next_discount)}
            )
        return str(_("已减 %(amount)s") % {"amount": _plain(self.discount)})


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def promotion_hints(*, lines, now=None) -> list[PromotionHint]:
    """For the cart: each active promotion's discount now and what adding a little more would give."""
    hints = []
    for promotion in promotions_active(now=now):
        eligible = _eligible(promotion, lines)
        discount = promotion_discount_for(promotion, eligible)
        if promotion.kind == Promotion.Kind.EVERY:
            times = (eligible / promotion.threshold).to_integral_value(ROUND_DOWN)
            target = promotion.threshold * (times + 1)
            next_discount = promotion_discount_for(promotion, target)
            if next_discount <= discount:  # capped: no further step
                target, next_discount = eligible, discount
        elif discount:
            target, next_discount = eligible, discount
        else:
            target, next_discount = promotion.threshold, promotion.amount
        hints.append(
            PromotionHint(
                promotion=promotion,
                eligible=eligible,
                discount=discount,
                short=max(target - eligible, ZERO),
                next_discount=next_discount,
            )
        )
    hints.sort(key=lambda h: (h.short == 0, -h.next_discount))
    return hints


# Product pages show promotions from a per-process copy refreshed every minute (and dropped when staff
# save one), keeping the page within its query budget; checkout and the cart always read the database.
_SHOWN = {"at": None, "rows": []}
SHOWN_SECONDS = 60


def promotions_shown_forget(**_kwargs) -> None:
    _SHOWN["at"] = None
    catalogue_changed()  # product pages show promotions: cached copies go too (shop.cache_keys)


def _promotions_shown(now):
    at = _SHOWN["at"]
    if at is None or abs((now - at).total_seconds()) > SHOWN_SECONDS:
        rows = list(Promotion.objects.filter(is_active=True).prefetch_related("categories"))
        for promotion in rows:
            promotion.category_ids = _category_ids(promotion)
        _SHOWN.update(at=now, rows=rows)
    return [
        p
        for p in _SHOWN["rows"]
        if (p.starts_at is None or p.starts_at <= now) and (p.ends_at is None or p.ends_at > now)
    ]


def promotions_for_product(*, product, now=None) -> list[Promotion]:
    """The promotions a product page shows (满300减30 …)."""
    now = now or timezone.now()
    return [
        p for p in _promotions_shown(now) if p.category_ids is None or product.category_id in p.category_ids
    ]


def promotions_shown_receivers_connect() -> None:
    """Staff edits to promotions (or their categories) drop this process's copy at once."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    post_save.connect(promotions_shown_forget, sender=Promotion, dispatch_uid="promotions_shown_save")
    post_delete.connect(promotions_shown_forget, sender=Promotion, dispatch_uid="promotions_shown_delete")
    m2m_changed.connect(
        promotions_shown_forget, sender=Promotion.categories.through, dispatch_uid="promotions_shown_m2m"
    )
