"""The demo app: `manage.py seed_demo`, seeding shop, membership and so on in order."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo data"
