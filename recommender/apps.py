"""Recommendation app config: the Django side of the recommender (the engine is recommender.algorithms)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommenderConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommender"
    verbose_name = _("推荐系统")

    def ready(self):
        from recommender import receivers  # noqa: F401  (listens to the shop's behaviour signal)
