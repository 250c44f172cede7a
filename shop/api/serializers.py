"""Serializers of the storefront API: shapes only; rules live in shop.services and shop.selectors."""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.masking import public_member_name
from shop.models import (
    AfterSale,
    Brand,
    Category,
    Event,
    Order,
    OrderLine,
    Product,
    ProductImage,
    Refund,
    Review,
)
from shop.selectors import SORTS


class MoneyField(serializers.DecimalField):
    """A CNY amount as a decimal string with two places ("12.34"): never a float."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)


class CategorySerializer(serializers.ModelSerializer):
    parent_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "parent_id", "position"]


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug"]


class ProductImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["url", "alt"]

    def get_url(self, image) -> str:
        request = self.context.get("request")
        url = image.image.url if image.image else ""
        return request.build_absolute_uri(url) if request and url else url


class ProductCardSerializer(serializers.ModelSerializer):
    """A product in a listing: what the storefront's product card shows."""

    price = MoneyField(read_only=True)
    list_price = MoneyField(read_only=True, allow_null=True)
    brand = BrandSerializer(read_only=True, allow_null=True)
    category_id = serializers.IntegerField(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    discount_percent = serializers.IntegerField(read_only=True)
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2, read_only=True)
    image = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "sku",
            "price",
            "list_price",
            "discount_percent",
            "brand",
            "category_id",
            "in_stock",
            "rating_avg",
            "rating_count",
            "sales_count",
            "image",
        ]

    @extend_schema_field(ProductImageSerializer(allow_null=True))
    def get_image(self, product):
        images = list(product.images.all())  # prefetched by the selector
        return ProductImageSerializer(images[0], context=self.context).data if images else None


class RatingBucketSerializer(serializers.Serializer):
    stars = serializers.IntegerField(min_value=1, max_value=5)
    count = serializers.IntegerField(min_value=0)


class RatingSummarySerializer(serializers.Serializer):
    average = serializers.DecimalField(max_digits=3, decimal_places=2)
    count = serializers.IntegerField(min_value=0)
    distribution = RatingBucketSerializer(many=True)


class ProductDetailSerializer(ProductCardSerializer):
    category = CategorySerializer(read_only=True)
    images = ProductImageSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    stock = serializers.IntegerField(read_only=True)
    attributes = serializers.DictField(read_only=True)
    rating_summary = serializers.SerializerMethodField()

    class Meta(ProductCardSerializer.Meta):
        fields = ProductCardSerializer.Meta.fields + [
            "description",
            "category",
            "images",
            "tags",
            "stock",
            "attributes",
            "is_consumable",
            "rating_summary",
        ]

    @extend_schema_field(RatingSummarySerializer)
    def get_rating_summary(self, product):
        distribution = self.context.get("rating_distribution", [])
        return RatingSummarySerializer(
            {
                "average": product.rating_avg,
                "count": product.rating_count,
                "distribution": [{"stars": stars, "count": n} for stars, n in distribution],
            }
        ).data


class ReviewSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "rating", "title", "body", "author", "created_at"]

    def get_author(self, review) -> str:
        return public_member_name(review.user)  # reviews never show a member's email


class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ProductQuerySerializer(serializers.Serializer):
    """Listing filters: the same ones, with the same meaning, as the storefront's pages."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=_(
            "搜索词：中文分词（繁体、拼音、首字母亦可），查名称、品牌、分类、标签和描述；默认按相关度排序"
        ),
    )
    category = serializers.SlugField(required=False, max_length=120, help_text=_("分类网址名（包含子分类）"))
    brand = serializers.ListField(
        child=serializers.SlugField(max_length=120),
        required=False,
        max_length=20,
        help_text=_("品牌网址名，可重复"),
    )
    min_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, min_value=Decimal("0")
    )
    max_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, min_value=Decimal("0")
    )
    in_stock = serializers.BooleanField(required=False, default=False)
    ordering = serializers.ChoiceField(choices=[*SORTS, "relevance"], required=False)

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_price": _("最高价不能低于最低价。")})
        return attrs


# --- Cart and checkout -----------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    product = ProductCardSerializer()
    quantity = serializers.IntegerField()
    unit_price = MoneyField(help_text=_("加入购物车时的价格"))
    price = MoneyField(source="product.price", help_text=_("现价"))
    price_changed = serializers.BooleanField()
    line_total = MoneyField()


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    item_count = serializers.IntegerField()
    subtotal = MoneyField()


class CartAddSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=99, default=1)


class CartQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=99, help_text=_("0 表示移除"))


def shipping_method_choices():
    return [(code, str(rule["label"])) for code, rule in settings.SHOP_SHIPPING_METHODS.items()]


class CheckoutQuoteRequestSerializer(serializers.Serializer):
    shipping_method = serializers.ChoiceField(choices=shipping_method_choices(), default="standard")
    coupon_code = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
    points = serializers.IntegerField(required=False, min_value=0, max_value=10_000_000, default=0)


class CheckoutQuoteSerializer(serializers.Serializer):
    """What the shopper would pay, and why a coupon or points do not (fully) apply."""

    subtotal = MoneyField()
    shipping_method = serializers.CharField()
    shipping_fee = MoneyField()
    coupon_code = serializers.CharField()
    coupon_discount = MoneyField()
    points_requested = serializers.IntegerField()
    points_used = serializers.IntegerField()
    points_discount = MoneyField()
    total = MoneyField()
    problems = serializers.ListField(child=serializers.CharField(), help_text=_("优惠券或积分不能使用的原因"))


class AddressInputSerializer(serializers.Serializer):
    recipient_name = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=20)
    province = serializers.CharField(max_length=30)
    city = serializers.CharField(max_length=30)
    district = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address_line = serializers.CharField(max_length=200)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")


class OrderPlaceSerializer(CheckoutQuoteRequestSerializer):
    address_id = serializers.IntegerField(
        required=False, min_value=1, help_text=_("地址簿中的地址；或填写 address")
    )
    address = AddressInputSerializer(required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(
        max_length=64, min_length=8, help_text=_("每次下单生成一个新的随机值；重复提交相同的值返回同一个订单")
    )

    def validate(self, attrs):
        if not attrs.get("address_id") and not attrs.get("address"):
            raise serializers.ValidationError({"address": _("请选择收货地址或填写新地址。")})
        return attrs


class OrderLineSerializer(serializers.ModelSerializer):
    unit_price = MoneyField()
    line_total = MoneyField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "product_id",
            "product_name",
            "sku",
            "unit_price",
            "quantity",
            "line_total",
            "refunded_quantity",
        ]


class OrderSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    subtotal = MoneyField()
    shipping_fee = MoneyField()
    coupon_discount = MoneyField()
    points_discount = MoneyField()
    total = MoneyField()
    lines = OrderLineSerializer(many=True)
    is_payable = serializers.BooleanField()

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "status_display",
            "is_payable",
            "subtotal",
            "shipping_fee",
            "coupon_discount",
            "points_discount",
            "points_used",
            "total",
            "shipping_method",
            "recipient_name",
            "phone",
            "province",
            "city",
            "district",
            "address_line",
            "postcode",
            "note",
            "lines",
            "created_at",
            "paid_at",
            "shipped_at",
            "received_at",
            "completed_at",
            "cancelled_at",
            "refunded_at",
        ]


class ShipmentLineSerializer(serializers.Serializer):
    line_id = serializers.IntegerField(source="order_line_id")
    product_name = serializers.CharField(source="order_line.product_name")
    quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    shipped_at = serializers.DateTimeField(source="created_at")
    lines = ShipmentLineSerializer(many=True)


class OrderFulfilmentSerializer(serializers.Serializer):
    """Where the order is after payment: parcels, the return window, what may be asked, points to come."""

    status = serializers.CharField()
    shipments = ShipmentSerializer(many=True)
    return_window_ends = serializers.DateTimeField(allow_null=True, help_text=_("退货期截止（收货前为预计）"))
    can_confirm_receipt = serializers.BooleanField()
    aftersale_kinds = serializers.ListField(child=serializers.ChoiceField(choices=AfterSale.Kind.choices))
    points_pending = serializers.IntegerField(help_text=_("本单待入账积分"))
    points_release_date = serializers.DateTimeField(allow_null=True, help_text=_("待入账积分的到账时间"))


class AfterSaleLineSerializer(serializers.Serializer):
    line_id = serializers.IntegerField(source="order_line_id")
    product_name = serializers.CharField(source="order_line.product_name")
    quantity = serializers.IntegerField()


class RefundSerializer(serializers.Serializer):
    reference = serializers.CharField()
    amount = MoneyField()
    status = serializers.ChoiceField(choices=Refund.Status.choices)
    created_at = serializers.DateTimeField()


class AfterSaleSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=AfterSale.Kind.choices)
    status = serializers.ChoiceField(choices=AfterSale.Status.choices)
    status_display = serializers.CharField(source="get_status_display")
    reason = serializers.CharField()
    staff_note = serializers.CharField()
    lines = AfterSaleLineSerializer(many=True)
    refunds = RefundSerializer(many=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)


class AfterSaleLineRequestSerializer(serializers.Serializer):
    line_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class AfterSaleRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AfterSale.Kind.choices)
    reason = serializers.CharField(max_length=500)
    lines = AfterSaleLineRequestSerializer(many=True, min_length=1, max_length=100)


class SandboxPaymentRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["succeeded", "failed", "cancelled"], default="succeeded")


class PaymentSerializer(serializers.Serializer):
    reference = serializers.CharField()
    provider = serializers.CharField()
    amount = MoneyField()
    status = serializers.CharField()
    order = OrderSerializer()


# --- Events ----------------------------------------------------------------------------------

# What a client app may report. Purchases, cart and favourite changes are recorded by the services
# themselves (a client cannot forge them), and impressions by the recommendation endpoints.
CLIENT_EVENT_KINDS = [Event.Kind.VIEW, Event.Kind.SEARCH, Event.Kind.REC_CLICK]
CLIENT_EVENT_KIND_CHOICES = [(k.value, k.label) for k in CLIENT_EVENT_KINDS]


class EventInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CLIENT_EVENT_KIND_CHOICES)
    product_id = serializers.IntegerField(required=False, min_value=1)
    query = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    context = serializers.DictField(
        required=False, default=dict, help_text=_("推荐点击时带上推荐接口返回的 block 和 model")
    )

    def validate_context(self, value):
        # Only short scalar values: the context is stored with every event.
        if len(value) > 10:
            raise serializers.ValidationError(_("最多 10 项。"))
        clean = {}
        for key, item in value.items():
            if len(str(key)) > 40 or not isinstance(item, (str, int, float, bool)) or len(str(item)) > 100:
                raise serializers.ValidationError(_("只能包含简短的文字或数字。"))
            clean[str(key)] = item
        return clean

    def validate(self, attrs):
        kind = attrs["kind"]
        if kind == Event.Kind.SEARCH and not attrs.get("query", "").strip():
            raise serializers.ValidationError({"query": _("搜索事件需要搜索词。")})
        if kind != Event.Kind.SEARCH and not attrs.get("product_id"):
            raise serializers.ValidationError({"product_id": _("该事件需要商品。")})
        if kind == Event.Kind.REC_CLICK:
            context = attrs.get("context", {})
            if not str(context.get("block", "")).strip() or not str(context.get("model", "")).strip():
                raise serializers.ValidationError(
                    {"context": _("推荐点击需要推荐接口返回的 block 和 model。")}
                )
        return attrs


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    product_id = serializers.IntegerField(allow_null=True)
    query = serializers.CharField()
    created_at = serializers.DateTimeField()
