"""Membership API for check-in, the points mall, promotions and points expiry (issue 15): thin views."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from members import selectors
from members.services import checkin as checkin_services
from members.services import mall as mall_services
from members.services import promotions as promotion_services

from .serializers import CouponSerializer


class MemberAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []


class CheckinDaySerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    checked = serializers.BooleanField()
    is_makeup = serializers.BooleanField()
    can_makeup = serializers.BooleanField()


class CheckinStatusSerializer(serializers.Serializer):
    today = serializers.DateField()
    checked_today = serializers.BooleanField()
    streak = serializers.IntegerField()
    daily_points = serializers.IntegerField()
    next_bonus_day = serializers.IntegerField(allow_null=True)
    next_bonus_points = serializers.IntegerField()
    makeups_left = serializers.IntegerField()
    makeup_cost = serializers.IntegerField()
    days = serializers.SerializerMethodField()

    def get_days(self, status) -> list:
        days = [day for week in status.weeks for day in week if day]
        return CheckinDaySerializer(days, many=True).data


class CheckinSerializer(serializers.Serializer):
    date = serializers.DateField()
    streak = serializers.IntegerField()
    points = serializers.IntegerField()
    is_makeup = serializers.BooleanField()


class MakeupRequestSerializer(serializers.Serializer):
    date = serializers.DateField()


class RewardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    points_price = serializers.IntegerField()
    stock = serializers.IntegerField()
    per_member_limit = serializers.IntegerField()
    valid_until = serializers.DateTimeField(allow_null=True)
    coupon = serializers.CharField(source="coupon_template.label")


class ExchangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reward = serializers.CharField(source="reward.name")
    points = serializers.IntegerField()
    coupon = CouponSerializer()
    created_at = serializers.DateTimeField()


class PromotionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField()
    threshold = serializers.DecimalField(max_digits=10, decimal_places=2)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    max_discount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)


class ExpirySerializer(serializers.Serializer):
    date = serializers.DateField()
    points = serializers.IntegerField()


@extend_schema(tags=["member"])
class CheckinView(MemberAPIView):
    @extend_schema(summary="My check-in status and this month's calendar", responses=CheckinStatusSerializer)
    def get(self, request):
        return Response(CheckinStatusSerializer(checkin_services.checkin_status(user=request.user)).data)

    @extend_schema(
        summary="Check in for today (once a day, Beijing time)",
        request=None,
        responses={201: CheckinSerializer},
    )
    def post(self, request):
        done = checkin_services.checkin_do(user=request.user)
        return Response(CheckinSerializer(done).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["member"])
class CheckinMakeupView(MemberAPIView):
    @extend_schema(
        summary="Make up a missed day of this month for points",
        request=MakeupRequestSerializer,
        responses={201: CheckinSerializer},
    )
    def post(self, request):
        data = MakeupRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = checkin_services.checkin_makeup(user=request.user, day=data.validated_data["date"])
        return Response(CheckinSerializer(done).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["member"])
class RewardListView(MemberAPIView):
    @extend_schema(summary="What the points mall offers now", responses=RewardSerializer(many=True))
    def get(self, request):
        return Response(RewardSerializer(mall_services.rewards_on_offer(), many=True).data)


@extend_schema(tags=["member"])
class RewardExchangeView(MemberAPIView):
    @extend_schema(
        summary="Exchange my points for a reward", request=None, responses={201: ExchangeSerializer}
    )
    def post(self, request, reward_id):
        exchange = mall_services.reward_exchange(user=request.user, reward_id=reward_id)
        return Response(ExchangeSerializer(exchange).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["member"])
class PointsExpiryView(MemberAPIView):
    @extend_schema(summary="When my available points expire", responses=ExpirySerializer(many=True))
    def get(self, request):
        rows = selectors.points_expiry_schedule(request.user)
        return Response(ExpirySerializer([{"date": d, "points": p} for d, p in rows], many=True).data)


@extend_schema(tags=["catalogue"])
class PromotionListView(APIView):
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    @extend_schema(
        summary="Threshold promotions running now (满减, 每满减)", responses=PromotionSerializer(many=True)
    )
    def get(self, request):
        return Response(PromotionSerializer(promotion_services.promotions_active(), many=True).data)
