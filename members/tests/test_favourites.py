"""Favourites: add and remove are idempotent services used by the site and the API; the API's token
is issued by a service under the site's login rules."""

from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from core.errors import DomainError
from core.testing import run_concurrently
from members.models import Favourite
from members.services import accounts
from members.services.favourites import favourite_add, favourite_remove, favourite_toggle
from members.tests.factories import ProductFactory, UserFactory
from shop.models import Event

pytestmark = pytest.mark.django_db


def test_adding_twice_keeps_one_row_and_one_event():
    member, product = UserFactory(), ProductFactory()
    first = favourite_add(user=member, product=product)
    again = favourite_add(user=member, product=product)
    assert first.pk == again.pk and Favourite.objects.count() == 1
    assert Event.objects.filter(kind="favourite").count() == 1


def test_adding_while_a_concurrent_request_inserted_the_row_returns_that_row():
    member, product = UserFactory(), ProductFactory()
    existing = Favourite.objects.create(user=member, product=product)
    with mock.patch.object(Favourite.objects, "get_or_create", side_effect=IntegrityError("duplicate key")):
        favourite = favourite_add(user=member, product=product)
    assert favourite.pk == existing.pk
    assert not Event.objects.filter(kind="favourite").exists()  # the other request recorded it


def test_removing_twice_is_harmless_and_says_whether_it_was_saved():
    member, product = UserFactory(), ProductFactory()
    favourite_add(user=member, product=product)
    assert favourite_remove(user=member, product=product) is True
    assert favourite_remove(user=member, product=product) is False
    assert Event.objects.filter(kind="unfavourite").count() == 1


def test_the_site_toggle_is_built_on_add_and_remove():
    member, product = UserFactory(), ProductFactory()
    assert favourite_toggle(user=member, product=product) is True
    assert favourite_toggle(user=member, product=product) is False
    assert not Favourite.objects.exists()


def test_api_put_and_delete_use_the_idempotent_services(client):
    member, product = UserFactory(), ProductFactory()
    client.force_login(member)
    url = f"/api/v1/me/favourites/{product.pk}/"
    assert client.put(url).status_code == 200
    assert client.put(url).status_code == 200
    assert Favourite.objects.filter(user=member).count() == 1
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 404


def test_api_token_issue_applies_the_login_rules(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    member = UserFactory(email="app@example.com")
    request = RequestFactory().post("/api/v1/auth/token/")
    with pytest.raises(DomainError) as wrong:
        accounts.api_token_issue(request=request, email="app@example.com", password="wrong")
    assert wrong.value.code == "invalid_credentials"
    with pytest.raises(DomainError) as unverified:
        accounts.api_token_issue(request=request, email="app@example.com", password="secret-pass-123")
    assert unverified.value.code == "email_unverified"
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    token = accounts.api_token_issue(request=request, email="app@example.com", password="secret-pass-123")
    assert token == accounts.api_token_issue(
        request=request, email="app@example.com", password="secret-pass-123"
    )
    accounts.api_token_revoke(user=member)
    assert not Token.objects.filter(user=member).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_saves_make_one_favourite():
    member, product = UserFactory(), ProductFactory()
    outcomes = run_concurrently(*[lambda: favourite_add(user=member, product=product).pk] * 10)
    assert len(set(outcomes)) == 1 and Favourite.objects.filter(user=member).count() == 1
    assert Event.objects.filter(kind="favourite", user=member).count() == 1
