"""Demo data for membership: tiers, earning rules, coupon templates and a lively demo shopper.

seed_demo runs step_membership after the shop's steps (see demo.seeding).
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

# Names are stored in Chinese; gettext_noop puts them in the catalogue so pages can translate them.
TIERS = [
    ("normal", gettext_noop("普通会员"), "0", "1.00"),
    ("silver", gettext_noop("银卡"), "1000", "1.20"),
    ("gold", gettext_noop("金卡"), "3000", "1.50"),
    ("diamond", gettext_noop("钻石"), "8000", "2.00"),
]


def _templates(now):
    from members.models import CouponTemplate, Tier

    gold = Tier.objects.get(code="gold")
    specs = [
        dict(
            name="新人专享 满99减10",
            code="WELCOME10",
            amount="10",
            min_spend="99",
            per_member_limit=1,
            description="结账时输入 WELCOME10",
        ),
        dict(
            name="满200减30",
            amount="30",
            min_spend="200",
            is_claimable=True,
            total_quantity=1000,
            valid_days=30,
            valid_until=now + timedelta(days=60),
            description="领券中心限量领取",
        ),
        dict(
            name="金卡专享 满500减80",
            amount="80",
            min_spend="500",
            is_claimable=True,
            min_tier=gold,
            valid_days=30,
        ),
        dict(name="新人礼 满50减5", amount="5", min_spend="50", is_signup_gift=True, valid_days=14),
        dict(name="生日礼 满100减20", amount="20", min_spend="100", is_birthday_gift=True, valid_days=30),
        dict(
            name="为你推荐 9折",
            kind="percent",
            amount="10",
            max_discount="50",
            is_personalised=True,
            per_member_limit=5,
            valid_days=14,
            stackable_with_points=False,
        ),
    ]
    made = []
    for spec in specs:
        spec = {k: Decimal(v) if k in ("amount", "min_spend", "max_discount") else v for k, v in spec.items()}
        template, _created = CouponTemplate.objects.get_or_create(name=spec.pop("name"), defaults=spec)
        made.append(template)
    return made


def membership_demo_seed(*, shopper=None, now=None) -> dict:
    """Tiers, rules, coupon templates, profiles for everyone, and points/coupons for the demo shopper."""
    from members.models import Address, EarningRules, Favourite, PointsAccount, Profile, Tier, User
    from members.services import checkout_hooks
    from members.services.coupons import coupon_claim, coupons_signup_gift
    from members.services.points import points_order_release, points_signup_gift
    from members.services.tiers import tiers_recompute_all
    from shop.models import Order, Product

    now = now or timezone.now()
    with transaction.atomic():
        for position, (code, name, spend, multiplier) in enumerate(TIERS):
            Tier.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "min_spend": Decimal(spend),
                    "points_multiplier": Decimal(multiplier),
                    "position": position,
                },
            )
        rules = EarningRules.current()
        templates = _templates(now)
        missing = User.objects.filter(profile__isnull=True)
        Profile.objects.bulk_create([Profile(user=u) for u in missing], batch_size=1000)
        missing = User.objects.filter(points_account__isnull=True)
        PointsAccount.objects.bulk_create([PointsAccount(user=u) for u in missing], batch_size=1000)
        tiers_recompute_all(now=now)

        if shopper is None:
            return {"templates": len(templates)}
        points_signup_gift(user=shopper)
        coupons_signup_gift(user=shopper)
        window = timedelta(days=rules.return_window_days)
        for order in Order.objects.filter(user=shopper, paid_at__isnull=False).order_by("paid_at"):
            checkout_hooks.order_paid(order=order)
            if (
                order.status == Order.Status.COMPLETED
                and order.completed_at
                and order.completed_at + window <= now
            ):
                points_order_release(order=order)
        claimable = next(t for t in templates if t.is_claimable and t.min_tier_id is None)
        if not shopper.coupons.filter(template=claimable).exists():
            coupon_claim(user=shopper, template_id=claimable.pk)
        profile = Profile.objects.get(user=shopper)
        profile.display_name = profile.display_name or "演示用户"
        profile.save()
        if not Address.objects.filter(user=shopper).exists():
            Address.objects.create(
                user=shopper,
                recipient_name="演示用户",
                phone="13800138000",
                province="上海市",
                city="上海市",
                district="浦东新区",
                address_line="世纪大道100号",
                postcode="200120",
                is_default=True,
            )
        for product in Product.objects.filter(is_active=True).order_by("-sales_count")[:4]:
            Favourite.objects.get_or_create(user=shopper, product=product)
    loyalty_demo_seed(shopper=shopper, now=now)
    return {"templates": len(templates)}


def loyalty_demo_seed(*, shopper=None, now=None) -> None:
    """Check-in rules, promotions (满300减30, 每满100减10), the points mall, and a shopper on a streak."""
    from core.errors import DomainError
    from members.models import CheckinRules, CouponTemplate, Promotion, Reward, StackingRules
    from members.services.checkin import checkin_do
    from members.services.mall import reward_exchange

    now = now or timezone.now()
    CheckinRules.current()
    StackingRules.current()
    Promotion.objects.get_or_create(
        name="全场满300减30", defaults={"threshold": Decimal("300"), "amount": Decimal("30")}
    )
    Promotion.objects.get_or_create(
        name="每满100减10（最高减50）",
        defaults={
            "kind": Promotion.Kind.EVERY,
            "threshold": Decimal("100"),
            "amount": Decimal("10"),
            "max_discount": Decimal("50"),
            "is_active": False,  # one promotion runs at a time in the demo; staff switch them in the admin
        },
    )
    for name, amount, min_spend, price, stock in [
        ("积分兑换 满100减15", "15", "100", 300, 200),
        ("积分兑换 满300减50", "50", "300", 800, 50),
        ("积分兑换 无门槛5元", "5", "0", 100, 3),
    ]:
        template, _created = CouponTemplate.objects.get_or_create(
            name=name,
            defaults={
                "amount": Decimal(amount),
                "min_spend": Decimal(min_spend),
                "per_member_limit": 5,
                "valid_days": 30,
                "description": "积分商城兑换",
            },
        )
        Reward.objects.get_or_create(
            name=name.replace("积分兑换 ", ""),
            defaults={
                "coupon_template": template,
                "points_price": price,
                "stock": stock,
                "per_member_limit": 2,
            },
        )
    if shopper is None:
        return
    # Five days in a row up to yesterday: today's check-in (and the day-7 bonus) is two visits away.
    for days_ago in range(5, 0, -1):
        try:
            checkin_do(user=shopper, now=now - timedelta(days=days_ago))
        except DomainError:
            pass  # seeded before
    cheapest = Reward.objects.filter(is_active=True).order_by("points_price").first()
    if cheapest and not shopper.reward_exchanges.exists():
        try:
            reward_exchange(user=shopper, reward_id=cheapest.pk, now=now)
        except DomainError:
            pass  # too few points in this seed: the mall page still shows the offer


def step_membership(ctx):
    """Membership: tiers, earning rules, coupon templates, the demo shopper's points and coupons."""
    shopper = ctx.members[0] if getattr(ctx, "members", None) else None
    membership_demo_seed(shopper=shopper, now=getattr(ctx, "now", None))
    ctx.say(
        "  tiers, rules, coupon templates; check-in, promotions, points mall;"
        " demo shopper's points, streak, coupons, address, favourites"
    )


def membership_demo_reset():
    """Remove what points at orders (ledger, coupon redemptions) so demo orders can be deleted."""
    from members.models import (
        Checkin,
        Coupon,
        CouponRedemption,
        PointsAccount,
        PointsEntry,
        PromotionApplication,
        RewardExchange,
    )

    CouponRedemption.objects.all().delete()
    PromotionApplication.objects.all().delete()
    RewardExchange.objects.all().delete()
    Checkin.objects.all().delete()
    PointsEntry.objects.all().delete()  # lots go with their entries
    Coupon.objects.all().delete()
    PointsAccount.objects.update(available=0, pending=0)
