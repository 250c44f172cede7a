"""Helpers of the API tests: a member who can log in, an API client holding a member's token."""

from allauth.account.models import EmailAddress
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members.tests.factories import UserFactory

PASSWORD = "secret-pass-123"  # members.tests.factories.UserFactory's


def member_make(**kwargs):
    """A member who can log in: verified email (allauth) and a profile."""
    user = UserFactory(**kwargs)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
