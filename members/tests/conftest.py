"""Membership test fixtures: a clean cache per test (code-guessing counters, rate limits, navigation)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()
