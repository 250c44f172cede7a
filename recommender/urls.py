"""Recommendation URLs: the tracked click redirect and "不感兴趣"."""

from django.urls import path

from . import views

app_name = "recommender"
urlpatterns = [
    path("click/<slug:block>/<slug:model>/<int:product_id>/", views.recommendation_click, name="click"),
    path("not-interested/<int:product_id>/", views.not_interested, name="not_interested"),
]
