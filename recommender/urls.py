"""Recommendation URLs: the tracked click redirect."""
from django.urls import path

from . import views

app_name = "recommender"
urlpatterns = [
    path("click/<slug:block>/<slug:model>/<int:product_id>/", views.recommendation_click, name="click"),
]
