"""Membership test fixtures: a clean cache per test (code-guessing counters, rate limits, navigation)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _forget_shown_promotions():
    # The product page's per-process copy would outlive a rolled-back test's promotions.
    from members.services.benefits import tiers_shown_forget
    from members.services.promotions import promotions_shown_forget

    promotions_shown_forget()
    tiers_shown_forget()
    yield
    promotions_shown_forget()
    tiers_shown_forget()
