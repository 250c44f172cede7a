"""Signup: allauth's e-mails carry the shop's name, not the host's; the welcome follows verification."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from members.models import User
from notifications.models import Message

pytestmark = pytest.mark.django_db


def test_signup_mails_are_branded_and_the_welcome_follows_verification(
    client, fresh_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "newbie@example.test", "password1": "Str0ng-pass-9", "password2": "Str0ng-pass-9"},
            REMOTE_ADDR="127.0.0.1",
        )
    assert response.status_code == 302
    user = User.objects.get(email="newbie@example.test")
    (confirmation,) = mail.outbox
    assert confirmation.subject.startswith("[优选商城]")
    assert "127.0.0.1" not in confirmation.subject + confirmation.body
    assert "你好，这里是优选商城！" in confirmation.body and "注册了优选商城的账号" in confirmation.body
    # The 站内信 welcome is there at once; the e-mail waits for a verified address.
    assert Message.objects.filter(user=user, title__contains="欢迎").count() == 1

    link = re.search(r"https?://\S+/accounts/confirm-email/(\S+)/", confirmation.body)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_confirm_email", args=[link.group(1)]))
    welcome = [m for m in mail.outbox if "欢迎加入" in m.subject]
    assert len(welcome) == 1 and welcome[0].to == ["newbie@example.test"]
    assert Message.objects.filter(user=user).count() == 1
