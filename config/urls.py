"""Top-level URLs: storefront, accounts, member centre, recommendations, API, admin."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from config.seo import robots_txt, sitemap
from config.views import admin_login, favicon, healthz, metrics, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", admin_login, name="admin_login"),  # before admin.site.urls: allauth's, rate-limited
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("member/", include("members.urls")),
    path("recommendations/", include("recommender.urls")),
    path("messages/", include("notifications.urls")),
    path("api/", include("config.api_urls")),
    path("", include("shop.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
