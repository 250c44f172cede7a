"""The REST API under /api/v1/, its OpenAPI schema and Swagger UI (assets served locally)."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("v1/", include("shop.api.urls")),
    path("v1/", include("members.api.urls")),
    path("v1/", include("recommender.api.urls")),
    path("v1/", include("notifications.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", lambda request: api_not_found(request)),  # last: any other /api/ path
]


def api_not_found(request):
    """A path under /api/ that matches no route: the API's documented error body, not an HTML page."""
    return JsonResponse({"code": "not_found", "message": _("没有这个接口。"), "fields": {}}, status=404)
