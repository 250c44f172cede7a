"""The Celery app: broker and schedule come from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect(weak=False)
def _count_task(sender=None, state=None, **kwargs):
    # Imported on first use: config.metrics imports Django, not yet set up when this module loads.
    from config.metrics import celery_task_finished

    celery_task_finished(sender=sender, state=state)
