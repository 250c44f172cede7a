"""The REST API under /api/v1/, its OpenAPI schema and Swagger UI (assets served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("v1/", include("shop.api.urls")),
    path("v1/", include("members.api.urls")),
    path("v1/", include("recommender.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
