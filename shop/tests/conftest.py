"""Shop test fixtures: a clean cache per test (navigation and category tree are cached)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()
