"""Membership API routes under /api/v1/."""

from django.urls import path

from . import loyalty, views

app_name = "members-api"
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("me/profile/", views.ProfileView.as_view(), name="profile"),
    path("me/addresses/", views.AddressListView.as_view(), name="address-list"),
    path("me/addresses/<int:address_id>/", views.AddressDetailView.as_view(), name="address-detail"),
    path("me/points/", views.PointsView.as_view(), name="points"),
    path("me/points/ledger/", views.PointsLedgerView.as_view(), name="points-ledger"),
    path("me/tier/", views.TierView.as_view(), name="tier"),
    path("me/coupons/", views.MyCouponListView.as_view(), name="coupon-list"),
    path("me/favourites/", views.FavouriteListView.as_view(), name="favourite-list"),
    path("me/favourites/<int:product_id>/", views.FavouriteDetailView.as_view(), name="favourite-detail"),
    path("me/personalisation/", views.PersonalisationView.as_view(), name="personalisation"),
    path("me/export/", views.DataExportView.as_view(), name="export"),
    path("coupons/claimable/", views.ClaimableCouponListView.as_view(), name="claimable-coupons"),
    path("coupons/claimable/<int:template_id>/claim/", views.CouponClaimView.as_view(), name="coupon-claim"),
    path("me/checkin/", loyalty.CheckinView.as_view(), name="checkin"),
    path("me/checkin/makeup/", loyalty.CheckinMakeupView.as_view(), name="checkin-makeup"),
    path("me/points/expiry/", loyalty.PointsExpiryView.as_view(), name="points-expiry"),
    path("mall/rewards/", loyalty.RewardListView.as_view(), name="reward-list"),
    path(
        "mall/rewards/<int:reward_id>/exchange/", loyalty.RewardExchangeView.as_view(), name="reward-exchange"
    ),
    path("promotions/", loyalty.PromotionListView.as_view(), name="promotion-list"),
]
