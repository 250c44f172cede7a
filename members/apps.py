"""Members app: accounts, profiles, points, tiers, coupons, favourites and privacy."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = _("会员")

    def ready(self):
        from members import receivers  # noqa: F401  (listens to the shop's order and review signals)
        from members.audit import audit_receivers_connect

        audit_receivers_connect()
        from members.services.promotions import promotions_shown_receivers_connect

        promotions_shown_receivers_connect()
        from members.services.benefits import tiers_shown_receivers_connect

        tiers_shown_receivers_connect()
