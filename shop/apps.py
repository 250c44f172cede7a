"""The storefront app: catalogue, cart, checkout, orders, reviews and behaviour events."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shop"
    verbose_name = _("商城")

    def ready(self):
        from shop import receivers  # noqa: F401  (connects the login receiver)
        from shop.services.search_index import search_index_receivers_connect

        search_index_receivers_connect()
