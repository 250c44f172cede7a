"""The message centre in the API: own messages only, read / all read, preferences, a login required."""

import pytest
from rest_framework.test import APIClient

from notifications.models import Message
from notifications.services import messages
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_members_read_and_mark_their_own_messages():
    user, other = UserFactory(), UserFactory()
    mine = [Message.objects.create(user=user, title=f"消息{i}", link="/member/") for i in range(3)]
    theirs = Message.objects.create(user=other, title="别人的")
    api = _client(user)
    listing = api.get("/api/v1/me/messages/").json()
    assert listing["count"] == 3 and {row["title"] for row in listing["results"]} == {
        "消息0",
        "消息1",
        "消息2",
    }
    assert api.get("/api/v1/me/messages/unread-count/").json() == {"unread": 3}
    read = api.post(f"/api/v1/me/messages/{mine[0].pk}/read/")
    assert read.status_code == 200 and read.json()["read"] is True
    assert api.post(f"/api/v1/me/messages/{theirs.pk}/read/").status_code == 404
    assert api.post("/api/v1/me/messages/read-all/").json() == {"marked": 2}
    assert api.get("/api/v1/me/messages/unread-count/").json() == {"unread": 0}
    assert Message.objects.get(pk=theirs.pk).read_at is None


def test_members_set_their_message_preferences():
    user = UserFactory()
    api = _client(user)
    assert api.get("/api/v1/me/message-preferences/").json() == {"language": "", "opted_out": []}
    saved = api.put(
        "/api/v1/me/message-preferences/", {"language": "en", "opted_out": ["order_paid:sms"]}, format="json"
    )
    assert saved.status_code == 200 and saved.json() == {"language": "en", "opted_out": ["order_paid:sms"]}
    assert messages.member_language(user) == "en"
    bad = api.put("/api/v1/me/message-preferences/", {"language": "xx", "opted_out": ["nope"]}, format="json")
    assert bad.status_code == 400
    assert messages.preference_for(user).opted_out == ["order_paid:sms"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/me/messages/"),
        ("get", "/api/v1/me/messages/unread-count/"),
        ("post", "/api/v1/me/messages/1/read/"),
        ("post", "/api/v1/me/messages/read-all/"),
        ("get", "/api/v1/me/message-preferences/"),
    ],
)
def test_a_login_is_required(method, path):
    assert getattr(_client(), method)(path).status_code == 401
