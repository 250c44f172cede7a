"""Fixtures of the API tests: members with tokens, an anonymous client, a small catalogue.

The API modules start each test with an empty cache (throttle counters live there) through
`pytest.mark.usefixtures("fresh_cache")`, the fixture of the root conftest.py.
"""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from members.tests.factories import CategoryFactory, ProductFactory
from shop.models import Brand

from .api_support import client_for, member_make


@pytest.fixture
def member(db):
    return member_make()


@pytest.fixture
def other_member(db):
    return member_make()


@pytest.fixture
def api(member):
    """An API client holding `member`'s token."""
    return client_for(member)


@pytest.fixture
def other_api(other_member):
    return client_for(other_member)


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def catalogue(db):
    """Two categories (one a child), two brands, four products (one sold out, one inactive)."""
    phones = CategoryFactory(name="手机", slug="phones")
    android = CategoryFactory(name="安卓手机", slug="android", parent=phones)
    kitchen = CategoryFactory(name="厨房", slug="kitchen")
    acme = Brand.objects.create(name="极米", slug="acme")
    zen = Brand.objects.create(name="禅意", slug="zen")
    return {
        "phones": phones,
        "android": android,
        "kitchen": kitchen,
        "acme": acme,
        "zen": zen,
        "phone": ProductFactory(
            name="极米手机 X1", slug="x1", category=phones, brand=acme, price=Decimal("1999.00"), stock=10
        ),
        "android_phone": ProductFactory(
            name="安卓手机 A2", slug="a2", category=android, brand=zen, price=Decimal("899.50"), stock=0
        ),
        "pan": ProductFactory(
            name="不粘锅",
            slug="pan",
            category=kitchen,
            brand=zen,
            price=Decimal("59.90"),
            stock=50,
            description="炒菜不粘",
        ),
        "hidden": ProductFactory(name="下架商品", slug="hidden", category=kitchen, is_active=False),
    }
