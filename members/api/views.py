"""Membership API views: thin, they call the same selectors and services as the member centre.

Authentication for apps uses DRF's own tokens (rest_framework.authtoken), not allauth's headless
tokens: DRF's TokenAuthentication is already in REST_FRAMEWORK's authentication classes, so every
endpoint, permission, throttle and the OpenAPI schema (tokenAuth) work the same for a token and for
the site's session; allauth headless would add a second API surface with its own sessions and
error format. The token endpoint applies the site's login rules (members.services.accounts.api_token_issue:
active account, verified email when verification is mandatory) and its own throttle scope ("auth_token").
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from core.addresses import ADDRESS_FIELDS
from members import selectors
from members.models import Address
from members.services import accounts as account_services
from members.services import coupons as coupon_services
from members.services import favourites as favourite_services
from members.services import privacy as privacy_services
from members.services.points import points_value
from shop.models import Product

from . import serializers as s


class MemberAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []


# --- Tokens ----------------------------------------------------------------------------------


@extend_schema(tags=["auth"])
class TokenView(APIView):
    """Exchange email + password for the member's API token; DELETE revokes it (logs every app out)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle, ScopedRateThrottle]
    throttle_scope = "auth_token"
    filter_backends = []

    @extend_schema(
        summary="Get my API token",
        request=s.TokenRequestSerializer,
        responses={200: s.TokenSerializer},
        auth=[],
    )
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = account_services.api_token_issue(
            request=request._request,
            email=data.validated_data["email"],
            password=data.validated_data["password"],
        )
        return Response({"token": token.key, "email": token.user.email})

    @extend_schema(summary="Revoke my API token", request=None, responses={204: None})
    def delete(self, request):
        if not request.user.is_authenticated:
            self.permission_denied(request)
        account_services.api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Profile and addresses -------------------------------------------------------------------


@extend_schema(tags=["member"])
class ProfileView(MemberAPIView):
    @extend_schema(summary="My profile", responses=s.ProfileSerializer)
    def get(self, request):
        return Response(s.ProfileSerializer(account_services.profile_for(request.user)).data)

    @extend_schema(summary="Change my profile", request=s.ProfileSerializer, responses=s.ProfileSerializer)
    def patch(self, request):
        data = s.ProfileSerializer(
            account_services.profile_for(request.user), data=request.data, partial=True
        )
        data.is_valid(raise_exception=True)
        profile = account_services.profile_update(user=request.user, **data.validated_data)
        return Response(s.ProfileSerializer(profile).data)


def own_address(request, address_id) -> Address:
    address = Address.objects.filter(user=request.user, pk=address_id).first()
    if address is None:
        raise NotFound()
    return address


@extend_schema(tags=["member"])
class AddressListView(generics.ListAPIView):
    serializer_class = s.AddressSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    pagination_class = None  # at most ADDRESS_LIMIT

    def get_queryset(self):
        return Address.objects.filter(user=self.request.user).order_by("-is_default", "-created_at", "-id")

    @extend_schema(
        summary="Add an address", request=s.AddressSerializer, responses={201: s.AddressSerializer}
    )
    def post(self, request):
        data = s.AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k in ADDRESS_FIELDS}
        address = account_services.address_save(
            user=request.user, is_default=data.validated_data.get("is_default", False), **fields
        )
        return Response(s.AddressSerializer(address).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["member"], parameters=[OpenApiParameter("address_id", int, OpenApiParameter.PATH)])
class AddressDetailView(MemberAPIView):
    @extend_schema(summary="One of my addresses", responses=s.AddressSerializer)
    def get(self, request, address_id):
        return Response(s.AddressSerializer(own_address(request, address_id)).data)

    @extend_schema(
        summary="Change one of my addresses (is_default: true makes it the default)",
        request=s.AddressSerializer,
        responses=s.AddressSerializer,
    )
    def patch(self, request, address_id):
        address = own_address(request, address_id)
        data = s.AddressSerializer(address, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k in ADDRESS_FIELDS}
        address = account_services.address_save(
            user=request.user,
            address=address,
            is_default=data.validated_data.get("is_default", False),
            **fields,
        )
        return Response(s.AddressSerializer(own_address(request, address.pk)).data)

    @extend_schema(summary="Delete one of my addresses", responses={204: None})
    def delete(self, request, address_id):
        account_services.address_delete(user=request.user, address_id=own_address(request, address_id).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Points and tier -------------------------------------------------------------------------


@extend_schema(tags=["member"])
class PointsView(MemberAPIView):
    @extend_schema(summary="My points balance", responses=s.PointsBalanceSerializer)
    def get(self, request):
        account = selectors.points_account_for(request.user)
        expiring, first_at = selectors.points_expiring_soon(request.user)
        return Response(
            s.PointsBalanceSerializer(
                {
                    "available": account.available,
                    "pending": account.pending,
                    "value": points_value(points=account.available),
                    "expiring_soon": expiring,
                    "expiring_first_at": first_at,
                }
            ).data
        )


@extend_schema(tags=["member"], summary="My points ledger, newest first")
class PointsLedgerView(generics.ListAPIView):
    serializer_class = s.PointsEntrySerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return selectors.points_history(self.request.user)


@extend_schema(tags=["member"])
class TierView(MemberAPIView):
    @extend_schema(summary="My tier and progress to the next", responses=s.TierProgressSerializer)
    def get(self, request):
        account = selectors.points_account_for(request.user)
        progress = selectors.tier_progress(account)
        return Response(s.TierProgressSerializer({**progress, "spend_12m": account.spend_12m}).data)


# --- Coupons ---------------------------------------------------------------------------------


@extend_schema(
    tags=["coupons"],
    summary="My coupons (available, used or expired)",
    parameters=[s.CouponStateQuerySerializer],
)
class MyCouponListView(generics.ListAPIView):
    serializer_class = s.CouponSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        query = s.CouponStateQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.coupons_for(self.request.user, state=query.validated_data["state"])


@extend_schema(tags=["coupons"], summary="Coupons I can claim in the claim centre")
class ClaimableCouponListView(generics.ListAPIView):
    serializer_class = s.ClaimableCouponSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return selectors.claimable_templates(self.request.user)


@extend_schema(tags=["coupons"], parameters=[OpenApiParameter("template_id", int, OpenApiParameter.PATH)])
class CouponClaimView(MemberAPIView):
    @extend_schema(
        summary="Claim a coupon from the claim centre", request=None, responses={201: s.CouponSerializer}
    )
    def post(self, request, template_id):
        coupon = coupon_services.coupon_claim(user=request.user, template_id=template_id)
        return Response(s.CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)


# --- Favourites ------------------------------------------------------------------------------


@extend_schema(tags=["favourites"], summary="My favourites, newest first")
class FavouriteListView(generics.ListAPIView):
    serializer_class = s.FavouriteSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return (
            selectors.favourites_for(self.request.user)
            .select_related("product__brand")
            .prefetch_related("product__images")
        )


@extend_schema(tags=["favourites"], parameters=[OpenApiParameter("product_id", int, OpenApiParameter.PATH)])
class FavouriteDetailView(MemberAPIView):
    """PUT saves and DELETE unsaves, each idempotent (the site's button toggles)."""

    @extend_schema(summary="Save a product to my favourites", request=None, responses=s.FavouriteSerializer)
    def put(self, request, product_id):
        product = Product.objects.filter(pk=product_id, is_active=True).first()
        if product is None:
            raise NotFound()
        favourite = favourite_services.favourite_add(user=request.user, product=product)
        return Response(s.FavouriteSerializer(favourite, context={"request": request}).data)

    @extend_schema(summary="Remove a product from my favourites", responses={204: None})
    def delete(self, request, product_id):
        product = Product.objects.filter(pk=product_id).first()
        if product is None or not favourite_services.favourite_remove(user=request.user, product=product):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Privacy ---------------------------------------------------------------------------------


@extend_schema(tags=["member"])
class PersonalisationView(MemberAPIView):
    @extend_schema(
        summary="Whether my recommendations are personalised", responses=s.PersonalisationSerializer
    )
    def get(self, request):
        return Response({"enabled": selectors.personalization_allowed(request.user)})

    @extend_schema(
        summary="Turn personalised recommendations on or off",
        request=s.PersonalisationSerializer,
        responses=s.PersonalisationSerializer,
    )
    def put(self, request):
        data = s.PersonalisationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = privacy_services.personalization_set(
            user=request.user, enabled=data.validated_data["enabled"]
        )
        return Response({"enabled": profile.personalization_enabled})


@extend_schema(tags=["member"])
class DataExportView(MemberAPIView):
    @extend_schema(
        summary="Everything the shop holds about me (JSON)",
        responses={200: {"type": "object", "additionalProperties": True}},
    )
    def get(self, request):
        response = Response(privacy_services.member_data_export(user=request.user))
        response["Content-Disposition"] = 'attachment; filename="my-data.json"'
        return response
