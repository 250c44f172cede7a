"""Catalogue, carts, orders, payments, reviews and behaviour events."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shop.slugs import slug_unique
from shop.validators import validate_product_image

ZERO = Decimal("0.00")


class Category(models.Model):
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
        verbose_name=_("上级分类"),
    )
    name = models.CharField(_("名称"), max_length=100)
    slug = models.SlugField(_("网址名"), max_length=120, unique=True)
    description = models.TextField(_("描述"), blank=True)
    position = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("分类")
        verbose_name_plural = _("分类")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:  # the admin's prepopulated slug is empty for a Chinese name
            self.slug = slug_unique(Category, self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("shop:category", kwargs={"slug": self.slug})


class Brand(models.Model):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    slug = models.SlugField(_("网址名"), max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("品牌")
        verbose_name_plural = _("品牌")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slug_unique(Brand, self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)


class Tag(models.Model):
    name = models.CharField(_("名称"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self):
        return self.name


class Product(models.Model):
    category = models.ForeignKey(
        Category, related_name="products", on_delete=models.PROTECT, verbose_name=_("分类")
    )
    brand = models.ForeignKey(
        Brand,
        related_name="products",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("品牌"),
    )
    name = models.CharField(_("名称"), max_length=200)
    slug = models.SlugField(_("网址名"), max_length=220, unique=True)
    sku = models.CharField(_("货号"), max_length=64, unique=True)
    price = models.DecimalField(
        _("售价"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    list_price = models.DecimalField(_("原价"), max_digits=10, decimal_places=2, null=True, blank=True)
    stock = models.PositiveIntegerField(_("库存"), default=0)
    description = models.TextField(_("描述"), blank=True)
    attributes = models.JSONField(_("规格参数"), default=dict, blank=True)
    tags = models.ManyToManyField(Tag, related_name="products", blank=True, verbose_name=_("标签"))
    is_active = models.BooleanField(_("上架"), default=True)
    is_consumable = models.BooleanField(
        _("消耗品"), default=False, help_text=_("消耗品可以再次推荐给已购买的会员。")
    )
    # Denormalised for listing sorts; kept current by the services that change them.
    sales_count = models.PositiveIntegerField(_("销量"), default=0)
    rating_avg = models.DecimalField(_("平均评分"), max_digits=3, decimal_places=2, default=ZERO)
    rating_count = models.PositiveIntegerField(_("评分数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Search index, written by shop.services.search_index (see shop/search.py): space-padded lexemes per
    # weight (name A, brand and category path B, tags C, description D) and, on PostgreSQL, their weighted
    # tsvector. Its GIN index and the trigram index on search_name are made by migration 0006 on
    # PostgreSQL only (SQLite has neither), so they are not declared here.
    search_name = models.TextField(default="", blank=True, editable=False)
    search_meta = models.TextField(default="", blank=True, editable=False)
    search_tags = models.TextField(default="", blank=True, editable=False)
    search_body = models.TextField(default="", blank=True, editable=False)
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        indexes = [
            models.Index(fields=["category", "is_active", "-created_at"]),
            models.Index(fields=["is_active", "-sales_count"]),
            models.Index(fields=["is_active", "price"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_non_negative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slug_unique(Product, self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("shop:product", kwargs={"slug": self.slug})

    @property
    def in_stock(self):
        return self.stock > 0

    @property
    def discount_percent(self):
        if self.list_price and self.list_price > self.price:
            return int(round((1 - self.price / self.list_price) * 100))
        return 0


class ProductImage(models.Model):
    product = models.ForeignKey(
        Product, related_name="images", on_delete=models.CASCADE, verbose_name=_("商品")
    )
    image = models.ImageField(_("图片"), upload_to="products/%Y/%m/", validators=[validate_product_image])
    alt = models.CharField(_("替代文字"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("商品图片")
        verbose_name_plural = _("商品图片")

    def __str__(self):
        return self.alt or self.image.name


class Cart(models.Model):
    """A member's cart, or a guest's keyed by session; merged into the member's on login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="cart",
        on_delete=models.CASCADE,
        verbose_name=_("会员"),
    )
    session_key = models.CharField(_("访客标识"), max_length=40, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("购物车")
        verbose_name_plural = _("购物车")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(session_key__isnull=False),
                name="cart_has_owner",
            ),
        ]

    def __str__(self):
        return f"Cart #{self.pk}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, related_name="items", on_delete=models.CASCADE, verbose_name=_("购物车"))
    product = models.ForeignKey(Product, related_name="+", on_delete=models.CASCADE, verbose_name=_("商品"))
    quantity = models.PositiveIntegerField(_("数量"), default=1, validators=[MinValueValidator(1)])
    # Price when added, so the cart can say when it changed since.
    unit_price = models.DecimalField(_("加入时单价"), max_digits=10, decimal_places=2)
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_item_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_item_quantity_positive"),
        ]

    @property
    def line_total(self):
        return self.product.price * self.quantity

    @property
    def price_changed(self):
        return self.unit_price != self.product.price


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("待付款")
        PAID = "paid", _("已付款")
        SHIPPED = "shipped", _("已发货")
        RECEIVED = "received", _("已收货")
        COMPLETED = "completed", _("已完成")
        CANCELLED = "cancelled", _("已取消")
        REFUNDED = "refunded", _("已退款")

    number = models.CharField(_("订单号"), max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.SET_NULL,
        verbose_name=_("会员"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT, db_index=True
    )
    # One order per checkout form submission: a double submit returns the first order.
    idempotency_key = models.CharField(_("幂等键"), max_length=64, unique=True)

    subtotal = models.DecimalField(_("商品金额"), max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(_("运费"), max_digits=10, decimal_places=2, default=ZERO)
    coupon_discount = models.DecimalField(_("优惠券抵扣"), max_digits=12, decimal_places=2, default=ZERO)
    points_discount = models.DecimalField(_("积分抵扣"), max_digits=12, decimal_places=2, default=ZERO)
    points_used = models.PositiveIntegerField(_("使用积分"), default=0)
    total = models.DecimalField(_("应付金额"), max_digits=12, decimal_places=2)

    shipping_method = models.CharField(_("配送方式"), max_length=20)
    recipient_name = models.CharField(_("收货人"), max_length=50)
    phone = models.CharField(_("电话"), max_length=20)
    province = models.CharField(_("省份"), max_length=30)
    city = models.CharField(_("城市"), max_length=30)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    address_line = models.CharField(_("详细地址"), max_length=200)
    postcode = models.CharField(_("邮编"), max_length=10, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    created_at = models.DateTimeField(_("下单时间"), auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    # Receipt (by the member, or automatically) starts the return window; its close completes the order.
    received_at = models.DateTimeField(_("收货时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("shop:order_detail", kwargs={"number": self.number})

    @property
    def is_payable(self):
        return self.status == self.Status.PENDING_PAYMENT


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE, verbose_name=_("订单"))
    product = models.ForeignKey(
        Product, related_name="order_lines", null=True, on_delete=models.SET_NULL, verbose_name=_("商品")
    )
    product_name = models.CharField(_("商品名称"), max_length=200)
    sku = models.CharField(_("货号"), max_length=64)
    unit_price = models.DecimalField(_("单价"), max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(_("数量"), validators=[MinValueValidator(1)])
    line_total = models.DecimalField(_("小计"), max_digits=12, decimal_places=2)
    # Units whose money went back (after-sales); the database refuses more than were bought.
    refunded_quantity = models.PositiveIntegerField(_("已退数量"), default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=models.F("quantity")),
                name="order_line_refunded_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.product_name} × {self.quantity}"


class OrderStatusChange(models.Model):
    """Who moved an order to which state and when: the order's audit trail."""

    order = models.ForeignKey(
        Order, related_name="status_changes", on_delete=models.CASCADE, verbose_name=_("订单")
    )
    from_status = models.CharField(_("原状态"), max_length=20, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Order.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name=_("操作人"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("订单状态变更")
        verbose_name_plural = _("订单状态变更")


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待支付")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")
        REFUNDED = "refunded", _("已退款")

    order = models.ForeignKey(
        Order, related_name="payments", on_delete=models.CASCADE, verbose_name=_("订单")
    )
    provider = models.CharField(_("支付渠道"), max_length=30, default="sandbox")
    # The provider's transaction id: a callback that arrives twice finds the same row.
    reference = models.CharField(_("交易号"), max_length=64, unique=True)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("支付")
        verbose_name_plural = _("支付")


class Shipment(models.Model):
    """A parcel staff sent: the carrier, its tracking number, and which lines are in it."""

    order = models.ForeignKey(
        Order, related_name="shipments", on_delete=models.CASCADE, verbose_name=_("订单")
    )
    carrier = models.CharField(_("快递公司"), max_length=50)
    tracking_number = models.CharField(_("运单号"), max_length=64)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("发货时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("发货单")
        verbose_name_plural = _("发货单")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="shipment_tracking_unique"),
        ]

    def __str__(self):
        return f"{self.carrier} {self.tracking_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(
        Shipment, related_name="lines", on_delete=models.CASCADE, verbose_name=_("发货单")
    )
    order_line = models.ForeignKey(
        OrderLine, related_name="shipment_lines", on_delete=models.CASCADE, verbose_name=_("订单明细")
    )
    quantity = models.PositiveIntegerField(_("数量"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["id"]
        verbose_name = _("发货明细")
        verbose_name_plural = _("发货明细")
        constraints = [
            # A line goes out in one parcel.
            models.UniqueConstraint(fields=["order_line"], name="shipment_line_once"),
        ]


class AfterSale(models.Model):
    """A member's request to return or refund lines of an order (售后), and what staff decided."""

    class Kind(models.TextChoices):
        REFUND_ONLY = "refund_only", _("仅退款")
        RETURN = "return", _("退货退款")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审核")
        APPROVED = "approved", _("已同意")
        REJECTED = "rejected", _("已拒绝")
        REFUNDING = "refunding", _("退款中")
        REFUNDED = "refunded", _("已退款")

    OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.REFUNDING)

    number = models.CharField(_("售后单号"), max_length=32, unique=True)
    order = models.ForeignKey(
        Order, related_name="after_sales", on_delete=models.PROTECT, verbose_name=_("订单")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="after_sales",
        on_delete=models.SET_NULL,
        verbose_name=_("会员"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    reason = models.CharField(_("原因"), max_length=500)
    staff_note = models.CharField(_("处理说明"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    goods_received_at = models.DateTimeField(_("退货签收时间"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("售后单")
        verbose_name_plural = _("售后单")

    def __str__(self):
        return self.number

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class AfterSaleLine(models.Model):
    after_sale = models.ForeignKey(
        AfterSale, related_name="lines", on_delete=models.CASCADE, verbose_name=_("售后单")
    )
    order_line = models.ForeignKey(
        OrderLine, related_name="after_sale_lines", on_delete=models.PROTECT, verbose_name=_("订单明细")
    )
    quantity = models.PositiveIntegerField(_("数量"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["id"]
        verbose_name = _("售后明细")
        verbose_name_plural = _("售后明细")
        constraints = [
            models.UniqueConstraint(fields=["after_sale", "order_line"], name="after_sale_line_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="after_sale_line_quantity_positive"),
        ]


class AfterSalePhoto(models.Model):
    after_sale = models.ForeignKey(
        AfterSale, related_name="photos", on_delete=models.CASCADE, verbose_name=_("售后单")
    )
    image = models.ImageField(_("图片"), upload_to="aftersales/%Y/%m/", validators=[validate_product_image])

    class Meta:
        ordering = ["id"]
        verbose_name = _("售后图片")
        verbose_name_plural = _("售后图片")


class Refund(models.Model):
    """Money sent back through the payment provider: one row per attempt, for one after-sale."""

    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")

    order = models.ForeignKey(Order, related_name="refunds", on_delete=models.PROTECT, verbose_name=_("订单"))
    after_sale = models.ForeignKey(
        AfterSale,
        null=True,
        blank=True,
        related_name="refunds",
        on_delete=models.PROTECT,
        verbose_name=_("售后单"),
    )
    payment = models.ForeignKey(
        Payment, related_name="refunds", on_delete=models.PROTECT, verbose_name=_("支付")
    )
    amount = models.DecimalField(_("退款金额"), max_digits=12, decimal_places=2)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    # Our refund request number, sent to the provider so a retried call refunds once.
    reference = models.CharField(_("退款单号"), max_length=64, unique=True)
    provider_reference = models.CharField(_("渠道退款号"), max_length=128, blank=True)
    # Whether this refund settled the whole order (coupon and shipping go back only then).
    whole_order = models.BooleanField(_("整单退款"), default=False)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name=_("操作人"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]


class Review(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("已拒绝")

    product = models.ForeignKey(
        Product, related_name="reviews", on_delete=models.CASCADE, verbose_name=_("商品")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="reviews", on_delete=models.CASCADE, verbose_name=_("会员")
    )
    rating = models.PositiveSmallIntegerField(
        _("评分"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    title = models.CharField(_("标题"), max_length=100, blank=True)
    body = models.TextField(_("内容"), blank=True, max_length=2000)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.APPROVED, db_index=True
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    edited_at = models.DateTimeField(_("修改时间"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name=_("审核人"),
    )
    moderated_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="review_one_per_member_product"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.product} · {self.rating}★"


class Event(models.Model):
    """One behaviour event: what the recommender learns from."""

    class Kind(models.TextChoices):
        VIEW = "view", _("浏览")
        SEARCH = "search", _("搜索")
        CART_ADD = "cart_add", _("加入购物车")
        CART_REMOVE = "cart_remove", _("移出购物车")
        PURCHASE = "purchase", _("购买")
        RATING = "rating", _("评分")
        FAVOURITE = "favourite", _("收藏")
        UNFAVOURITE = "unfavourite", _("取消收藏")
        REC_IMPRESSION = "rec_impression", _("推荐曝光")
        REC_CLICK = "rec_click", _("推荐点击")
        # A shopper's "不感兴趣" on a recommended card: hidden from their lists, never learned as interest.
        NOT_INTERESTED = "not_interested", _("不感兴趣")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="events",
        on_delete=models.CASCADE,
        verbose_name=_("会员"),
    )
    session_key = models.CharField(_("访客标识"), max_length=40, blank=True, db_index=True)
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        related_name="events",
        on_delete=models.CASCADE,
        verbose_name=_("商品"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    value = models.FloatField(_("数值"), null=True, blank=True, help_text=_("评分星数、数量等"))
    query = models.CharField(_("搜索词"), max_length=200, blank=True)
    context = models.JSONField(_("上下文"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("行为事件")
        verbose_name_plural = _("行为事件")
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["kind", "created_at"]),
            models.Index(fields=["product", "kind"]),
        ]

    def __str__(self):
        return f"{self.kind} {self.product_id or self.query}"


class OrderNote(models.Model):
    """A staff note on an order: internal, shown in the admin's timeline and never to the member."""

    order = models.ForeignKey(Order, related_name="notes", on_delete=models.CASCADE, verbose_name=_("订单"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name=_("作者"),
    )
    text = models.TextField(_("内容"), max_length=2000)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("订单内部备注")
        verbose_name_plural = _("订单内部备注")

    def __str__(self):
        return str(_("订单 %(number)s 的备注 #%(pk)s") % {"number": self.order.number, "pk": self.pk})
