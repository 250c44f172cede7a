"""Members app: accounts, profiles, points, tiers, coupons, favourites and privacy."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = _("会员")

    def ready(self):
        # seed_demo runs membership's step after the storefront's own steps.
        from shop import demo

        from members.demo import step_membership

        demo.register_seed_step(step_membership)
