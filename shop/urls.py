"""Storefront URLs: catalogue, search, cart, checkout, orders, payments and reviews."""

from django.urls import path

from . import views, views_payments
from .orders import views as order_views

app_name = "shop"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("p/<slug:slug>/", views.product, name="product"),
    path("p/<slug:slug>/review/", views.review_create, name="review_create"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.search_suggest, name="search_suggest"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add_view, name="cart_add"),
    path("cart/update/", views.cart_update_view, name="cart_update"),
    path("cart/remove/", views.cart_remove_view, name="cart_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", order_views.order_detail, name="order_detail"),
    path("orders/<str:number>/receipt/", order_views.order_receipt_confirm, name="order_receipt_confirm"),
    path("orders/<str:number>/after-sales/new/", order_views.aftersale_new, name="aftersale_new"),
    path("orders/<str:number>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("orders/<str:number>/pay/", views.order_pay, name="order_pay"),
    path("orders/<str:number>/paid/", views.order_paid, name="order_paid"),
    path("pay/sandbox/<str:reference>/", views.sandbox_pay, name="sandbox_pay"),
    path("pay/callback/", views.payment_callback, name="payment_callback"),
    path("pay/<str:provider>/go/<str:reference>/", views_payments.payment_go, name="payment_go"),
    path("pay/<str:provider>/notify/", views_payments.payment_notify, name="payment_notify"),
    path("pay/<str:provider>/return/<str:reference>/", views_payments.payment_return, name="payment_return"),
]
