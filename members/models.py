"""Members: accounts and profiles (points, tiers, coupons and favourites join them here)."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MemberManager(UserManager):
    """Email is the login; the username is kept only because Django's admin expects one."""

    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email)
        username = username or email
        return super()._create_user(username, email, password, **extra_fields)

    def create_user(self, username=None, email=None, password=None, **extra_fields):
        return super().create_user(username or email, email, password, **extra_fields)

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        return super().create_superuser(username or email, email, password, **extra_fields)


def member_label(pk) -> str:
    """How staff screens name a member without personal data: "会员 #123"."""
    return str(_("会员 #%(number)s") % {"number": pk}) if pk else str(_("新会员"))


def member_display(user) -> str:
    """How allauth names a member to themselves ("signed in as …"): their own e-mail, not a number."""
    return user.email


class User(AbstractUser):
    email = models.EmailField(_("邮箱"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = MemberManager()

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        permissions = [("manage_staff", _("管理员工账号（员工身份、权限、分组和密码）"))]

    def __str__(self):
        # A member number, not the e-mail: admin titles, messages and "recent actions" (LogEntry.object_repr)
        # show this to staff who may not see personal data.
        return member_label(self.pk)


class Profile(models.Model):
    class Gender(models.TextChoices):
        UNKNOWN = "", _("不透露")
        FEMALE = "f", _("女")
        MALE = "m", _("男")

    user = models.OneToOneField(User, related_name="profile", on_delete=models.CASCADE)
    display_name = models.CharField(_("昵称"), max_length=50, blank=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("生日"), null=True, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    avatar = models.ImageField(_("头像"), upload_to="avatars/", blank=True)
    personalization_enabled = models.BooleanField(
        _("个性化推荐"), default=True, help_text=_("关闭后只看到非个性化的推荐，你的行为也不再用于训练模型。")
    )

    class Meta:
        verbose_name = _("会员资料")
        verbose_name_plural = _("会员资料")
        permissions = [("view_personal_data", _("查看会员个人信息（手机、邮箱、地址）"))]

    def __str__(self):
        return self.display_name or member_label(self.user_id)

    @property
    def age(self):
        if not self.birth_date:
            return None
        today = date.today()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday


class Address(models.Model):
    """A shipping address in a member's address book; at most one is the default."""

    user = models.ForeignKey(User, related_name="addresses", on_delete=models.CASCADE)
    recipient_name = models.CharField(_("收货人"), max_length=50)
    phone = models.CharField(_("电话"), max_length=20)
    province = models.CharField(_("省份"), max_length=30)
    city = models.CharField(_("城市"), max_length=30)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    address_line = models.CharField(_("详细地址"), max_length=200)
    postcode = models.CharField(_("邮编"), max_length=10, blank=True)
    is_default = models.BooleanField(_("默认地址"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        verbose_name = _("收货地址")
        verbose_name_plural = _("收货地址")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="address_one_default_per_member"
            ),
        ]

    def __str__(self):
        # No name or street: this titles admin pages and log entries seen by staff without the permission.
        return str(
            _("收货地址 #%(number)s（%(member)s）")
            % {"number": self.pk, "member": member_label(self.user_id)}
        )


class Favourite(models.Model):
    """A product a member saved (收藏)."""

    user = models.ForeignKey(User, related_name="favourites", on_delete=models.CASCADE)
    product = models.ForeignKey(
        "shop.Product", related_name="favourites", on_delete=models.CASCADE, verbose_name=_("商品")
    )
    created_at = models.DateTimeField(_("收藏时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("收藏")
        verbose_name_plural = _("收藏")
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="favourite_once_per_product"),
        ]


class Tier(models.Model):
    """A membership level reached by rolling 12-month spend; higher levels earn more points."""

    code = models.SlugField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    min_spend = models.DecimalField(
        _("近12个月消费门槛"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    points_multiplier = models.DecimalField(
        _("积分倍数"), max_digits=4, decimal_places=2, default=Decimal("1.00")
    )
    position = models.PositiveSmallIntegerField(_("等级"), default=0, unique=True)
    # Benefits (issue 15): what the tier's members get beyond the points multiplier.
    member_price_percent = models.PositiveSmallIntegerField(
        _("会员价（按原价的百分比）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("例如 95 表示 95 折；留空为没有会员价。"),
    )
    member_price_categories = models.ManyToManyField(
        "shop.Category",
        blank=True,
        related_name="+",
        verbose_name=_("会员价适用分类"),
        help_text=_("留空为全部商品。"),
    )
    birthday_multiplier = models.DecimalField(
        _("生日月积分倍数"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("1"))],
        help_text=_("生日当月下单，积分再乘以这个倍数。"),
    )

    class Meta:
        ordering = ["position"]
        verbose_name = _("会员等级")
        verbose_name_plural = _("会员等级")
        constraints = [
            models.CheckConstraint(condition=models.Q(min_spend__gte=0), name="tier_min_spend_non_negative"),
            models.CheckConstraint(
                condition=models.Q(points_multiplier__gte=0), name="tier_multiplier_non_negative"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        # Field errors here keep Django's raw "constraint … is violated" messages off the form.
        errors = {}
        if self.min_spend is not None and self.min_spend < 0:
            errors["min_spend"] = _("消费门槛不能为负数。")
        if self.points_multiplier is not None and self.points_multiplier < 0:
            errors["points_multiplier"] = _("积分倍数不能为负数。")
        if "min_spend" not in errors and self.min_spend is not None and self.position is not None:
            others = Tier.objects.exclude(pk=self.pk)
            lower = (
                others.filter(position__lt=self.position, min_spend__gte=self.min_spend)
                .order_by("-position")
                .first()
            )
            higher = (
                others.filter(position__gt=self.position, min_spend__lte=self.min_spend)
                .order_by("position")
                .first()
            )
            if lower is not None:
                errors["min_spend"] = _(
                    "等级顺序不对：消费门槛必须高于较低等级“%(name)s”的 %(spend)s 元。"
                ) % {"name": lower.name, "spend": lower.min_spend}
            elif higher is not None:
                errors["min_spend"] = _(
                    "等级顺序不对：消费门槛必须低于较高等级“%(name)s”的 %(spend)s 元。"
                ) % {"name": higher.name, "spend": higher.min_spend}
        if errors:
            raise ValidationError(errors)


class EarningRules(models.Model):
    """The one row of loyalty settings staff edit in the admin (see EarningRules.current())."""

    points_per_yuan = models.DecimalField(
        _("每消费1元得积分"), max_digits=6, decimal_places=2, default=Decimal("1.00")
    )
    first_order_bonus = models.PositiveIntegerField(_("首单奖励积分"), default=200)
    review_points = models.PositiveIntegerField(_("评价奖励积分"), default=20)
    signup_points = models.PositiveIntegerField(_("注册奖励积分"), default=100)
    return_window_days = models.PositiveIntegerField(
        _("退货期（天）"), default=7, help_text=_("订单完成后经过这么多天，待入账积分才变为可用。")
    )
    expiry_days = models.PositiveIntegerField(_("积分有效期（天）"), default=365)
    redeem_points_per_yuan = models.PositiveIntegerField(
        _("多少积分抵1元"), default=100, validators=[MinValueValidator(1)]
    )
    redeem_max_share = models.DecimalField(
        _("积分最多抵扣比例"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    personal_offers_per_month = models.PositiveIntegerField(_("每月个性化优惠券上限"), default=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")

    def __str__(self):
        return str(_("积分规则"))

    def clean(self):
        errors = {}
        if self.points_per_yuan is not None and self.points_per_yuan < 0:
            errors["points_per_yuan"] = _("每消费1元得积分不能为负数。")
        if self.expiry_days == 0:
            errors["expiry_days"] = _("积分有效期至少 1 天；为 0 时积分一到账就过期。")
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls):
        rules, _created = cls.objects.get_or_create(pk=1)
        return rules


class PointsAccount(models.Model):
    """A member's cached balances and tier; both balances are verified against the ledger."""

    user = models.OneToOneField(User, related_name="points_account", on_delete=models.CASCADE)
    available = models.PositiveIntegerField(_("可用积分"), default=0)
    pending = models.PositiveIntegerField(_("待入账积分"), default=0)
    tier = models.ForeignKey(
        Tier, null=True, blank=True, related_name="+", on_delete=models.SET_NULL, verbose_name=_("会员等级")
    )
    spend_12m = models.DecimalField(
        _("近12个月消费"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(available__gte=0), name="points_available_non_negative"
            ),
            models.CheckConstraint(condition=models.Q(pending__gte=0), name="points_pending_non_negative"),
        ]

    def __str__(self):
        return f"{member_label(self.user_id)} · {self.available}"


class PointsEntry(models.Model):
    """One row of the append-only points ledger: what changed, why, and the balances after."""

    class Reason(models.TextChoices):
        PURCHASE = "purchase", _("购物")
        RELEASE = "release", _("待入账转可用")
        REFUND = "refund", _("退款扣回")
        REDEEM = "redeem", _("抵扣")
        REDEEM_REVERSAL = "redeem_reversal", _("抵扣退回")
        EXPIRE = "expire", _("过期")
        REVIEW = "review", _("评价奖励")
        REVIEW_REVERSAL = "review_reversal", _("评价奖励扣回")
        SIGNUP = "signup", _("注册奖励")
        STAFF = "staff", _("人工调整")
        CHECKIN = "checkin", _("签到")
        CHECKIN_MAKEUP = "checkin_makeup", _("补签")
        EXCHANGE = "exchange", _("积分兑换")

    user = models.ForeignKey(
        User, related_name="points_entries", on_delete=models.CASCADE, verbose_name=_("会员")
    )
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    available_delta = models.IntegerField(_("可用变动"), default=0)
    pending_delta = models.IntegerField(_("待入账变动"), default=0)
    available_after = models.PositiveIntegerField(_("可用余额"))
    pending_after = models.PositiveIntegerField(_("待入账余额"))
    order = models.ForeignKey(
        "shop.Order",
        null=True,
        blank=True,
        related_name="points_entries",
        on_delete=models.PROTECT,
        verbose_name=_("订单"),
    )
    staff = models.ForeignKey(
        User, null=True, blank=True, related_name="+", on_delete=models.SET_NULL, verbose_name=_("操作人")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    # Makes retried requests and tasks write a row once: "signup", "review:12", "expire:lot:7".
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("积分明细")
        verbose_name_plural = _("积分明细")
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=models.Q(order__isnull=False),
                name="points_entry_once_per_order_reason",
            ),
        ]

    def __str__(self):
        return (
            f"{member_label(self.user_id)} {self.get_reason_display()} "
            f"{self.available_delta:+d}/{self.pending_delta:+d}"
        )

    @property
    def delta(self):
        return self.available_delta + self.pending_delta


class PointsLot(models.Model):
    """Available points from one credit, spent and expired oldest first (FIFO)."""

    user = models.ForeignKey(User, related_name="points_lots", on_delete=models.CASCADE)
    entry = models.OneToOneField(PointsEntry, related_name="lot", on_delete=models.CASCADE)
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["expires_at", "id"]
        verbose_name = _("积分批次")
        verbose_name_plural = _("积分批次")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0) & models.Q(remaining__lte=models.F("points")),
                name="points_lot_remaining_in_range",
            ),
        ]


class CouponTemplate(models.Model):
    """A kind of coupon staff define; members hold Coupons made from it."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("满减（固定金额）")
        PERCENT = "percent", _("折扣（百分比）")

    class Scope(models.TextChoices):
        ALL = "all", _("全部商品")
        CATEGORIES = "categories", _("指定分类")
        PRODUCTS = "products", _("指定商品")

    name = models.CharField(_("名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.FIXED)
    amount = models.DecimalField(
        _("面额或折扣百分比"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    max_discount = models.DecimalField(_("最高优惠"), max_digits=10, decimal_places=2, null=True, blank=True)
    min_spend = models.DecimalField(_("最低消费"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_until = models.DateTimeField(_("截止时间"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("领取后有效天数"), null=True, blank=True, help_text=_("留空则按模板的截止时间。")
    )
    scope = models.CharField(_("适用范围"), max_length=12, choices=Scope.choices, default=Scope.ALL)
    categories = models.ManyToManyField(
        "shop.Category", blank=True, related_name="+", verbose_name=_("适用分类")
    )
    products = models.ManyToManyField(
        "shop.Product", blank=True, related_name="+", verbose_name=_("适用商品")
    )
    min_tier = models.ForeignKey(
        Tier,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        verbose_name=_("最低会员等级"),
    )
    total_quantity = models.PositiveIntegerField(
        _("发放总量"), null=True, blank=True, help_text=_("留空为不限。")
    )
    issued_count = models.PositiveIntegerField(_("已发放"), default=0, editable=False)
    redeemed_count = models.PositiveIntegerField(_("已使用"), default=0, editable=False)
    per_member_limit = models.PositiveIntegerField(
        _("每人限领"), default=1, validators=[MinValueValidator(1)]
    )
    stackable_with_points = models.BooleanField(_("可与积分同时使用"), default=True)
    code = models.CharField(
        _("公开券码"),
        max_length=30,
        unique=True,
        null=True,
        blank=True,
        help_text=_("结账时输入即可使用；留空则只能发放或领取。"),
    )
    is_claimable = models.BooleanField(_("领券中心可领"), default=False)
    is_signup_gift = models.BooleanField(_("注册礼"), default=False)
    is_birthday_gift = models.BooleanField(_("生日礼"), default=False)
    is_personalised = models.BooleanField(_("个性化优惠"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("优惠券模板")
        verbose_name_plural = _("优惠券模板")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_quantity__isnull=True)
                | models.Q(issued_count__lte=models.F("total_quantity")),
                name="coupon_template_not_over_issued",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(amount__lte=100),
                name="coupon_template_percent_at_most_100",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """Readable field errors for staff; targets of a scope are many-to-many, checked by
        coupon_template_targets_validate once the form has them."""
        errors = {}
        amount, min_spend, cap = self.amount, self.min_spend, self.max_discount
        if min_spend is not None and min_spend < 0:
            errors["min_spend"] = _("最低消费不能为负数。")
        if cap is not None and cap <= 0:
            errors["max_discount"] = _("最高优惠必须大于 0；不限请留空。")
        if amount is not None and amount > 0:
            if self.kind == self.Kind.PERCENT and amount > 100:
                errors["amount"] = _("折扣百分比不能超过 100（例如 10 表示打 9 折）。")
            elif self.kind == self.Kind.FIXED and min_spend and amount > min_spend:
                errors["amount"] = _(
                    "优惠金额 %(amount)s 元高于最低消费 %(min)s 元：请提高门槛或降低面额。"
                ) % {"amount": amount, "min": min_spend}
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = _("截止时间必须晚于生效时间。")
        if self.valid_days == 0:
            errors["valid_days"] = _("领取后有效天数至少为 1；按模板截止时间请留空。")
        if self.total_quantity is not None:
            if self.total_quantity == 0:
                errors["total_quantity"] = _("发放总量不能为 0；不限量请留空。")
            elif self.total_quantity < (self.issued_count or 0):
                errors["total_quantity"] = _("发放总量不能少于已发放的 %(n)s 张。") % {"n": self.issued_count}
        if self.per_member_limit == 0:
            errors["per_member_limit"] = _("每人限领至少 1 张。")
        if errors:
            raise ValidationError(errors)

    @property
    def label(self):
        """What the coupon is worth, e.g. "满100减10" or "9折"."""
        if self.kind == self.Kind.PERCENT:
            rate = (Decimal("100") - self.amount) / Decimal("10")
            return _("%(rate)s折") % {"rate": f"{rate.normalize():f}"}
        if self.min_spend:
            return _("满%(min)s减%(amount)s") % {
                "min": f"{self.min_spend.normalize():f}",
                "amount": f"{self.amount.normalize():f}",
            }
        return _("立减%(amount)s元") % {"amount": f"{self.amount.normalize():f}"}


def coupon_template_targets_validate(*, scope, categories, products) -> None:
    """A scope needs its targets: "指定分类" without categories would apply to nothing."""
    if scope == CouponTemplate.Scope.CATEGORIES and not categories:
        raise ValidationError({"categories": _("适用范围为“指定分类”时，请至少选择一个分类。")})
    if scope == CouponTemplate.Scope.PRODUCTS and not products:
        raise ValidationError({"products": _("适用范围为“指定商品”时，请至少选择一个商品。")})


class Coupon(models.Model):
    """One coupon a member holds, from a template; used on at most one live order."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("可使用")
        USED = "used", _("已使用")
        VOID = "void", _("已作废")

    class Source(models.TextChoices):
        CODE = "code", _("输入券码")
        CLAIM = "claim", _("领券中心")
        SIGNUP = "signup", _("注册礼")
        BIRTHDAY = "birthday", _("生日礼")
        STAFF = "staff", _("客服发放")
        PERSONAL = "personal", _("个性化优惠")
        EXCHANGE = "exchange", _("积分兑换")

    template = models.ForeignKey(
        CouponTemplate, related_name="coupons", on_delete=models.PROTECT, verbose_name=_("模板")
    )
    user = models.ForeignKey(User, related_name="coupons", on_delete=models.CASCADE, verbose_name=_("会员"))
    code = models.CharField(_("券码"), max_length=32, unique=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_until = models.DateTimeField(_("截止时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        User, null=True, blank=True, related_name="+", on_delete=models.SET_NULL, verbose_name=_("发放人")
    )
    # "birthday:2026:5", "signup:5": a retried task issues once.
    issue_key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    issued_at = models.DateTimeField(_("发放时间"), default=timezone.now)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        ordering = ["valid_until", "-issued_at", "-id"]
        verbose_name = _("优惠券")
        verbose_name_plural = _("优惠券")
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["template", "user"])]

    def __str__(self):
        return f"{self.template} · {self.code}"

    def is_expired(self, now=None):
        return bool(self.valid_until and self.valid_until <= (now or timezone.now()))


class CouponRedemption(models.Model):
    """A coupon used on an order; reversed (not deleted) when the order is cancelled or refunded."""

    coupon = models.ForeignKey(Coupon, related_name="redemptions", on_delete=models.CASCADE)
    order = models.ForeignKey("shop.Order", related_name="coupon_redemptions", on_delete=models.PROTECT)
    discount = models.DecimalField(_("优惠金额"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("优惠券使用记录")
        verbose_name_plural = _("优惠券使用记录")
        constraints = [
            models.UniqueConstraint(fields=["coupon", "order"], name="coupon_redemption_once_per_order"),
            # A coupon is live on one order at a time.
            models.UniqueConstraint(
                fields=["coupon"],
                condition=models.Q(reversed_at__isnull=True),
                name="coupon_redemption_one_live",
            ),
        ]


class PersonalDataAccess(models.Model):
    """One staff view of a member's unmasked personal data (PIPL accountability): who, whose, when, where."""

    staff = models.ForeignKey(
        User, null=True, related_name="+", on_delete=models.SET_NULL, verbose_name=_("员工")
    )
    member = models.ForeignKey(
        User, null=True, related_name="+", on_delete=models.SET_NULL, verbose_name=_("会员")
    )
    # Kept when either account is deleted, so the trail still says who and whose.
    staff_number = models.PositiveIntegerField(_("员工编号"))
    member_number = models.PositiveIntegerField(_("会员编号"), db_index=True)
    view = models.CharField(_("页面类型"), max_length=80)
    page = models.CharField(_("网址"), max_length=500)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")

    def __str__(self):
        return str(
            _("%(staff)s 查看 %(member)s")
            % {"staff": member_label(self.staff_number), "member": member_label(self.member_number)}
        )


# ---- daily check-in (签到) ----------------------------------------------------------------------


def streak_bonuses_parse(text: str) -> dict[int, int]:
    """ "7:50, 30:200" → {7: 50, 30: 200}; raises ValueError on anything else."""
    bonuses = {}
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        day, points = (int(x) for x in part.replace("：", ":").split(":"))
        if day < 1 or points < 0:
            raise ValueError(part)
        bonuses[day] = points
    return bonuses


class CheckinRules(models.Model):
    """The one row of check-in settings staff edit (see CheckinRules.current())."""

    daily_points = models.PositiveIntegerField(_("每日签到积分"), default=5)
    streak_bonuses = models.CharField(
        _("连续签到奖励"),
        max_length=200,
        blank=True,
        default="7:50",
        help_text=_("格式“天数:积分”，逗号分隔，例如 7:50,30:200 表示连续第 7 天额外得 50 分。"),
    )
    makeup_enabled = models.BooleanField(_("允许补签"), default=True)
    makeup_cost = models.PositiveIntegerField(_("补签消耗积分"), default=20)
    makeup_per_month = models.PositiveIntegerField(_("每月补签次数上限"), default=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("签到规则")
        verbose_name_plural = _("签到规则")

    def __str__(self):
        return str(_("签到规则"))

    def clean(self):
        try:
            streak_bonuses_parse(self.streak_bonuses)
        except ValueError:
            raise ValidationError(
                {"streak_bonuses": _("格式不对：请写成“天数:积分”，逗号分隔，例如 7:50,30:200。")}
            ) from None
        if self.makeup_enabled and not self.makeup_cost:
            raise ValidationError({"makeup_cost": _("补签至少消耗 1 积分；不想收费请关闭补签。")})

    @property
    def bonuses(self) -> dict[int, int]:
        try:
            return streak_bonuses_parse(self.streak_bonuses)
        except ValueError:
            return {}

    @classmethod
    def current(cls):
        rules, _created = cls.objects.get_or_create(pk=1)
        return rules


class Checkin(models.Model):
    """One day a member checked in (a Shanghai calendar date), or made up with points."""

    user = models.ForeignKey(User, related_name="checkins", on_delete=models.CASCADE, verbose_name=_("会员"))
    date = models.DateField(_("日期"))
    streak = models.PositiveIntegerField(_("连续天数"), default=1)
    points = models.PositiveIntegerField(_("获得积分"), default=0)
    is_makeup = models.BooleanField(_("补签"), default=False)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("签到记录")
        verbose_name_plural = _("签到记录")
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="checkin_once_per_day")]

    def __str__(self):
        return f"{member_label(self.user_id)} · {self.date}"


# ---- points mall (积分商城) ----------------------------------------------------------------------


class Reward(models.Model):
    """Something members exchange points for; today a coupon from a template (gifts come later)."""

    name = models.CharField(_("名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    coupon_template = models.ForeignKey(
        CouponTemplate, related_name="rewards", on_delete=models.PROTECT, verbose_name=_("兑换的优惠券")
    )
    points_price = models.PositiveIntegerField(_("所需积分"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(_("库存"), default=0)
    per_member_limit = models.PositiveIntegerField(
        _("每人限兑"), default=1, validators=[MinValueValidator(1)]
    )
    valid_from = models.DateTimeField(_("开始兑换"), null=True, blank=True)
    valid_until = models.DateTimeField(_("结束兑换"), null=True, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "points_price", "id"]
        verbose_name = _("积分商城商品")
        verbose_name_plural = _("积分商城商品")
        constraints = [
            models.CheckConstraint(condition=models.Q(points_price__gte=1), name="reward_price_positive"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.points_price is not None and self.points_price < 1:
            errors["points_price"] = _("所需积分至少为 1。")
        if self.per_member_limit == 0:
            errors["per_member_limit"] = _("每人限兑至少 1 件。")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = _("结束兑换时间必须晚于开始时间。")
        template = self.coupon_template if self.coupon_template_id else None
        if template is not None and self.per_member_limit:
            if template.per_member_limit < self.per_member_limit:
                errors["per_member_limit"] = _("优惠券“%(name)s”每人限领 %(n)s 张，每人限兑不能超过它。") % {
                    "name": template.name,
                    "n": template.per_member_limit,
                }
            if not template.is_active:
                errors["coupon_template"] = _("这个优惠券模板已停用。")
        if errors:
            raise ValidationError(errors)


class RewardExchange(models.Model):
    """A member's exchange of points for a reward: what it cost and what it gave."""

    reward = models.ForeignKey(
        Reward, related_name="exchanges", on_delete=models.PROTECT, verbose_name=_("兑换商品")
    )
    user = models.ForeignKey(
        User, related_name="reward_exchanges", on_delete=models.CASCADE, verbose_name=_("会员")
    )
    points = models.PositiveIntegerField(_("消耗积分"))
    coupon = models.OneToOneField(
        Coupon,
        null=True,
        blank=True,
        related_name="exchange",
        on_delete=models.SET_NULL,
        verbose_name=_("优惠券"),
    )
    entry = models.OneToOneField(
        PointsEntry, related_name="exchange", on_delete=models.PROTECT, verbose_name=_("积分明细")
    )
    created_at = models.DateTimeField(_("兑换时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("积分兑换记录")
        verbose_name_plural = _("积分兑换记录")
        indexes = [models.Index(fields=["reward", "user"])]

    def __str__(self):
        return f"{member_label(self.user_id)} · {self.reward_id}"


# ---- threshold promotions (满减 / 每满减) and the stacking rule --------------------------------------


class Promotion(models.Model):
    """A discount every shopper gets above a threshold, no coupon needed: 满300减30 or 每满100减10."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("满减")
        EVERY = "every", _("每满减")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.THRESHOLD)
    threshold = models.DecimalField(
        _("门槛金额"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    amount = models.DecimalField(
        _("减免金额"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    max_discount = models.DecimalField(
        _("最高减免"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("每满减的封顶；留空不封顶。"),
    )
    categories = models.ManyToManyField(
        "shop.Category",
        blank=True,
        related_name="+",
        verbose_name=_("适用分类"),
        help_text=_("留空为全部商品。"),
    )
    starts_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["threshold", "id"]
        verbose_name = _("满减活动")
        verbose_name_plural = _("满减活动")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0) & models.Q(threshold__gt=0),
                name="promotion_amounts_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.threshold is not None and self.amount is not None and self.amount >= self.threshold:
            errors["amount"] = _("减免金额必须小于门槛金额（例如满 300 减 30）。")
        if self.max_discount is not None and self.max_discount <= 0:
            errors["max_discount"] = _("最高减免必须大于 0；不封顶请留空。")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("结束时间必须晚于开始时间。")
        if errors:
            raise ValidationError(errors)

    @property
    def label(self):
        values = {"threshold": f"{self.threshold.normalize():f}", "amount": f"{self.amount.normalize():f}"}
        if self.kind == self.Kind.EVERY:
            return _("每满%(threshold)s减%(amount)s") % values
        return _("满%(threshold)s减%(amount)s") % values


class PromotionApplication(models.Model):
    """The promotion an order got, and how much it took off (kept for the order's history)."""

    promotion = models.ForeignKey(
        Promotion, related_name="applications", on_delete=models.PROTECT, verbose_name=_("满减活动")
    )
    order = models.OneToOneField(
        "shop.Order", related_name="promotion_application", on_delete=models.PROTECT, verbose_name=_("订单")
    )
    discount = models.DecimalField(_("减免金额"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("满减使用记录")
        verbose_name_plural = _("满减使用记录")


class StackingRules(models.Model):
    """The one row saying what combines on an order: at most one promotion, one coupon, and points."""

    promotion_with_coupon = models.BooleanField(_("满减可与优惠券叠加"), default=True)
    promotion_with_points = models.BooleanField(_("满减可与积分叠加"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("优惠叠加规则")
        verbose_name_plural = _("优惠叠加规则")

    def __str__(self):
        return str(_("优惠叠加规则"))

    @classmethod
    def current(cls):
        rules, _created = cls.objects.get_or_create(pk=1)
        return rules

    @property
    def explanation(self) -> str:
        if self.promotion_with_coupon and self.promotion_with_points:
            return str(
                _(
                    "每单可同时享受：一个满减活动 + 一张优惠券 + 积分抵扣（满减先算，优惠券再减，最后用积分）。"
                )
            )
        if self.promotion_with_coupon:
            return str(_("每单可同时享受一个满减活动和一张优惠券；使用积分时不再参加满减。"))
        if self.promotion_with_points:
            return str(_("满减活动与优惠券不能同时使用，系统自动选更划算的一个；积分可以叠加。"))
        return str(_("满减活动不能与优惠券或积分同时使用，系统自动选更划算的方式。"))


# ---- campaigns (会员日): points multipliers on a schedule ---------------------------------------------


class Campaign(models.Model):
    """Extra points on a schedule (会员日 double points), for everything or for chosen categories."""

    name = models.CharField(_("名称"), max_length=100)
    multiplier = models.DecimalField(
        _("积分倍数"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("2.00"),
        help_text=_("与会员等级倍数相乘，例如 2 表示双倍积分。"),
    )
    categories = models.ManyToManyField(
        "shop.Category",
        blank=True,
        related_name="+",
        verbose_name=_("适用分类"),
        help_text=_("留空为全部商品。"),
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "id"]
        verbose_name = _("积分活动（会员日）")
        verbose_name_plural = _("积分活动（会员日）")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(multiplier__gte=1), name="campaign_multiplier_at_least_1"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="campaign_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.multiplier is not None and self.multiplier < 1:
            errors["multiplier"] = _("积分倍数至少为 1（1 表示不加倍）。")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("结束时间必须晚于开始时间。")
        if errors:
            raise ValidationError(errors)
