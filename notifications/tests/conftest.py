"""Notification test fixtures: a clean cache and SMS log per test, e-mail to django's outbox."""

import pytest
from django.core.cache import cache

from notifications.sms import ConsoleSmsBackend


@pytest.fixture(autouse=True)
def _clean(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    ConsoleSmsBackend.sent.clear()
    yield
    cache.clear()
    ConsoleSmsBackend.sent.clear()


@pytest.fixture
def eager_retries():
    """In-process tasks retry as a worker would (at once, without the countdown) instead of raising."""
    from config.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous
