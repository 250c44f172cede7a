"""Campaigns (会员日): the points multiplier an order gets from its tier and the campaigns running when
it was placed, with the reasons in words (the staff preview answers "how many points, and why")."""

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from members.models import Campaign, EarningRules, PointsAccount, PointsEntry
from members.services.benefits import birthday_multiplier

ZERO = Decimal("0.00")


def campaigns_running(*, at) -> list[Campaign]:
    return list(
        Campaign.objects.filter(is_active=True, starts_at__lte=at, ends_at__gt=at).prefetch_related(
            "categories"
        )
    )


def _best_multiplier(campaigns, product) -> tuple[Decimal, Campaign | None]:
    best, which = Decimal("1"), None
    for campaign in campaigns:
        ids = {c.pk for c in campaign.categories.all()}
        covers = not ids or product.category_id in ids or getattr(product.category, "parent_id", None) in ids
        if covers and campaign.multiplier > best:
            best, which = campaign.multiplier, campaign
    return best, which


@dataclass
class PointsPreview:
    points: int = 0
    multiplier: Decimal = Decimal("1")  # tier × campaign, weighted by the lines' value
    reasons: list[str] = field(default_factory=list)


def order_points_preview(*, order) -> PointsPreview:
    """How many points `order` earns when paid, and why: amount, tier, campaigns, first-order bonus."""
    rules = EarningRules.current()
    preview = PointsPreview()
    paid_for_goods = max(order.total - order.shipping_fee, ZERO)
    account = PointsAccount.objects.filter(user_id=order.user_id).select_related("tier").first()
    tier = account.tier if account else None
    tier_multiplier = tier.points_multiplier if tier else Decimal("1")
    preview.reasons.append(
        _("实付商品金额 ¥%(amount)s × 每元 %(rate)s 分")
        % {"amount": paid_for_goods, "rate": rules.points_per_yuan}
    )
    if tier:
        preview.reasons.append(_("会员等级“%(tier)s”× %(m)s") % {"tier": tier.name, "m": tier_multiplier})
    birthday = birthday_multiplier(user_id=order.user_id, tier=tier, at=order.created_at)
    if birthday > 1:
        preview.reasons.append(_("生日月 × %(m)s") % {"m": birthday})
        tier_multiplier *= birthday
    lines = list(order.lines.select_related("product", "product__category"))
    campaigns = campaigns_running(at=order.created_at)
    weighted, total = ZERO, ZERO
    for line in lines:
        multiplier, campaign = (
            _best_multiplier(campaigns, line.product) if line.product_id else (Decimal("1"), None)
        )
        weighted += line.line_total * multiplier
        total += line.line_total
        if campaign is not None:
            preview.reasons.append(
                _("“%(product)s”参加“%(campaign)s”× %(m)s")
                % {"product": line.product_name, "campaign": campaign.name, "m": campaign.multiplier}
            )
    campaign_multiplier = (weighted / total) if total else Decimal("1")
    preview.multiplier = (tier_multiplier * campaign_multiplier).quantize(Decimal("0.0001"), ROUND_DOWN)
    preview.points = int(
        (paid_for_goods * rules.points_per_yuan * preview.multiplier).to_integral_value(ROUND_DOWN)
    )
    first = not (
        PointsEntry.objects.filter(user_id=order.user_id, reason=PointsEntry.Reason.PURCHASE)
        .exclude(order=order)
        .exists()
    )
    if first and rules.first_order_bonus:
        preview.points += rules.first_order_bonus
        preview.reasons.append(_("首单奖励 %(n)s 分") % {"n": rules.first_order_bonus})
    return preview
