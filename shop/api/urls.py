"""Storefront API routes under /api/v1/."""

from django.urls import path

from . import views

app_name = "shop-api"
urlpatterns = [
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/<slug:slug>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<slug:slug>/reviews/", views.ProductReviewListView.as_view(), name="product-reviews"),
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/items/", views.CartItemListView.as_view(), name="cart-items"),
    path("cart/items/<int:product_id>/", views.CartItemDetailView.as_view(), name="cart-item"),
    path("cart/quote/", views.CartQuoteView.as_view(), name="cart-quote"),
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:number>/fulfilment/", views.OrderFulfilmentView.as_view(), name="order-fulfilment"),
    path("orders/<str:number>/receipt/", views.OrderReceiptView.as_view(), name="order-receipt"),
    path(
        "orders/<str:number>/after-sales/", views.OrderAfterSaleListView.as_view(), name="order-after-sales"
    ),
    path(
        "orders/<str:number>/sandbox-payment/",
        views.OrderSandboxPaymentView.as_view(),
        name="order-sandbox-payment",
    ),
    path("events/", views.EventCreateView.as_view(), name="events"),
]
