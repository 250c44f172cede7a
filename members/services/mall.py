"""Points mall (积分商城): exchange points for a reward in one atomic, race-safe step."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_row
from members.models import Coupon, CouponTemplate, PointsEntry, Reward, RewardExchange
from members.services import coupons as coupon_services
from members.services import points as points_services


def rewards_on_offer(*, now=None):
    """Rewards a member can see in the mall now (sold-out ones stay listed, marked by their stock)."""
    now = now or timezone.now()
    return (
        Reward.objects.filter(is_active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=now))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("coupon_template")
    )


def reward_exchange(*, user, reward_id: int, now=None) -> RewardExchange:
    """Spend the member's points on one reward: stock, per-member limit and balance hold under races.

    Lock order (the one checkout uses, with the reward in front): the reward row, its coupon
    template, then the member's points account; everything below is read again inside those locks.
    Any refusal rolls the whole exchange back, so no points leave without the coupon arriving.
    """
    now = now or timezone.now()
    with transaction.atomic():
        try:
            reward = lock_row(Reward.objects.all(), reward_id)
        except Reward.DoesNotExist:
            raise DomainError(_("没有找到这件兑换商品。"), code="reward_not_found") from None
        if not reward.is_active or (reward.valid_from and reward.valid_from > now):
            raise DomainError(_("这件商品暂不可兑换。"), code="reward_unavailable")
        if reward.valid_until and reward.valid_until <= now:
            raise DomainError(_("这件商品的兑换已结束。"), code="reward_ended")
        lock_row(CouponTemplate.objects.all(), reward.coupon_template_id)
        account = points_services.points_account_lock(user=user)
        if reward.stock <= 0:
            raise DomainError(_("已兑完，下次早点来。"), code="reward_sold_out")
        taken = RewardExchange.objects.filter(reward=reward, user=user).count()
        if taken >= reward.per_member_limit:
            raise DomainError(
                _("每人限兑 %(n)s 件，你已兑换过了。") % {"n": reward.per_member_limit},
                code="reward_member_limit",
            )
        if account.available < reward.points_price:
            raise DomainError(
                _("积分不足：兑换需要 %(price)s 积分，你有 %(have)s 可用积分。")
                % {"price": reward.points_price, "have": account.available},
                code="points_insufficient",
            )
        # A conditional update: the count in the database, never a read-modify-write in Python.
        if not Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1):
            raise DomainError(_("已兑完，下次早点来。"), code="reward_sold_out")
        entry = points_services.points_entry_write(
            user=user,
            reason=PointsEntry.Reason.EXCHANGE,
            available_delta=-reward.points_price,
            note=_("兑换：%(name)s") % {"name": reward.name},
        )
        coupon = coupon_services.coupon_issue(
            template=reward.coupon_template, user=user, source=Coupon.Source.EXCHANGE, now=now
        )
        return RewardExchange.objects.create(
            reward=reward, user=user, points=reward.points_price, coupon=coupon, entry=entry, created_at=now
        )
