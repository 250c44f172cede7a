"""Serializers of the membership API: shapes only; rules live in members.services and members.selectors."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.addresses import (
    ADDRESS_FIELDS,
    PHONE_INVALID,
    POSTCODE_INVALID,
    phone_normalise,
    postcode_normalise,
)
from members.models import Address, Coupon, CouponTemplate, Favourite, PointsEntry, Profile, Tier
from shop.api.serializers import MoneyField, ProductCardSerializer


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("之后的请求带上请求头 Authorization: Token <token>"))
    email = serializers.EmailField()


class ProfileSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Profile
        fields = ["email", "display_name", "gender", "birth_date", "phone", "personalization_enabled"]
        read_only_fields = ["personalization_enabled"]

    def validate_phone(self, value):
        if not (value or "").strip():
            return ""
        phone = phone_normalise(value)
        if phone is None:
            raise serializers.ValidationError(PHONE_INVALID)
        return phone


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["id", *ADDRESS_FIELDS, "is_default", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_phone(self, value):
        phone = phone_normalise(value)
        if phone is None:
            raise serializers.ValidationError(PHONE_INVALID)
        return phone

    def validate_postcode(self, value):
        postcode = postcode_normalise(value)
        if postcode is None:
            raise serializers.ValidationError(POSTCODE_INVALID)
        return postcode


class PointsBalanceSerializer(serializers.Serializer):
    available = serializers.IntegerField()
    pending = serializers.IntegerField(help_text=_("订单完成且过了退货期后变为可用"))
    value = MoneyField(help_text=_("可用积分可抵扣的金额"))
    expiring_soon = serializers.IntegerField(help_text=_("30 天内过期的积分"))
    expiring_first_at = serializers.DateTimeField(allow_null=True)


class PointsEntrySerializer(serializers.ModelSerializer):
    reason_display = serializers.CharField(source="get_reason_display")
    order_number = serializers.CharField(source="order.number", allow_null=True, default=None)

    class Meta:
        model = PointsEntry
        fields = [
            "id",
            "reason",
            "reason_display",
            "available_delta",
            "pending_delta",
            "available_after",
            "pending_after",
            "order_number",
            "note",
            "created_at",
        ]


class TierSerializer(serializers.ModelSerializer):
    min_spend = MoneyField()
    points_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)

    class Meta:
        model = Tier
        fields = ["code", "name", "min_spend", "points_multiplier", "position"]


class TierProgressSerializer(serializers.Serializer):
    tier = TierSerializer(allow_null=True)
    next = TierSerializer(allow_null=True)
    spend_12m = MoneyField()
    remaining = MoneyField(help_text=_("距下一等级还需消费"))
    percent = serializers.IntegerField(min_value=0, max_value=100)


class CouponTemplateSerializer(serializers.ModelSerializer):
    label = serializers.CharField()
    amount = MoneyField()
    min_spend = MoneyField()
    max_discount = MoneyField(allow_null=True)

    class Meta:
        model = CouponTemplate
        fields = [
            "id",
            "name",
            "description",
            "label",
            "kind",
            "amount",
            "min_spend",
            "max_discount",
            "scope",
            "valid_from",
            "valid_until",
            "valid_days",
            "stackable_with_points",
        ]


class ClaimableCouponSerializer(CouponTemplateSerializer):
    held = serializers.IntegerField(help_text=_("我已领取的张数"))
    per_member_limit = serializers.IntegerField()
    min_tier = serializers.CharField(source="min_tier.name", allow_null=True, default=None)

    class Meta(CouponTemplateSerializer.Meta):
        fields = CouponTemplateSerializer.Meta.fields + ["held", "per_member_limit", "min_tier"]


class CouponSerializer(serializers.ModelSerializer):
    template = CouponTemplateSerializer()
    status_display = serializers.CharField(source="get_status_display")

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "status",
            "status_display",
            "source",
            "valid_from",
            "valid_until",
            "issued_at",
            "used_at",
            "template",
        ]


class CouponStateQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["available", "used", "expired"], default="available")


class FavouriteSerializer(serializers.ModelSerializer):
    product = ProductCardSerializer()

    class Meta:
        model = Favourite
        fields = ["product", "created_at"]


class PersonalisationSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text=_("关闭后只看到非个性化推荐，行为也不再用于训练"))
