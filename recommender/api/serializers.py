"""Serializers of the recommendations API: a product card with the reason it is recommended."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shop.api.serializers import ProductCardSerializer


class RecommendationSerializer(serializers.Serializer):
    product = ProductCardSerializer()
    reason = serializers.CharField(help_text=_("推荐理由，例如“购买此商品的顾客也买了”"))
    reason_code = serializers.CharField()
    block = serializers.CharField(help_text=_("推荐位；记录点击事件时原样带上"))
    model = serializers.CharField(help_text=_("产生该推荐的模型；记录点击事件时原样带上"))
    arm = serializers.CharField()


class RecommendationBlockSerializer(serializers.Serializer):
    block = serializers.CharField()
    title = serializers.CharField()
    personalised = serializers.BooleanField(help_text=_("是否按我的行为个性化（关闭个性化或游客时为否）"))
    items = RecommendationSerializer(many=True)


class RecommendationQuerySerializer(serializers.Serializer):
    n = serializers.IntegerField(min_value=1, max_value=48, default=12, help_text=_("最多返回几个"))
