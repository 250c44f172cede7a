"""Recommendations API routes under /api/v1/."""

from django.urls import path

from . import views

app_name = "recommender-api"
urlpatterns = [
    path("recommendations/for-me/", views.ForMeView.as_view(), name="for-me"),
    path("recommendations/cart/", views.ForCartView.as_view(), name="cart"),
    path("recommendations/similar/<slug:slug>/", views.SimilarView.as_view(), name="similar"),
    path(
        "recommendations/bought-together/<slug:slug>/",
        views.BoughtTogetherView.as_view(),
        name="bought-together",
    ),
]
