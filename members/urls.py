"""Member centre URLs under /member/."""

from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("points/", views.points, name="points"),
    path("checkin/", views.checkin_page, name="checkin"),
    path("mall/", views.points_mall, name="mall"),
    path("benefits/", views.tier_benefits, name="benefits"),
    path("coupons/", views.coupon_list, name="coupons"),
    path("coupons/claim/<int:template_id>/", views.coupon_claim, name="coupon_claim"),
    path("favourites/", views.favourite_list, name="favourites"),
    path("favourites/toggle/", views.favourite_toggle, name="favourite_toggle"),
    path("recent/", views.recently_viewed, name="recent"),
    path("addresses/", views.address_list, name="addresses"),
    path("addresses/new/", views.address_edit, name="address_create"),
    path("addresses/<int:address_id>/", views.address_edit, name="address_edit"),
    path("addresses/<int:address_id>/delete/", views.address_delete, name="address_delete"),
    path("addresses/<int:address_id>/default/", views.address_default, name="address_default"),
    path("profile/", views.profile, name="profile"),
    path("privacy/", views.privacy_page, name="privacy"),
    path("privacy/export/", views.data_export, name="data_export"),
    path("privacy/delete/", views.account_delete, name="account_delete"),
]
