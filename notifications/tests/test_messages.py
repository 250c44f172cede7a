"""Member messages: e-mail, 站内信 and SMS after commit, once, in the member's language, as they chose."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from members.models import PointsLot, Profile
from members.services.points import points_staff_adjust
from members.tests.factories import CouponFactory
from notifications import tasks
from notifications.models import Delivery, Message
from notifications.services import messages
from notifications.sms import ConsoleSmsBackend
from shop.models import Order
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.services.orders import order_refund, payment_sandbox_settle
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient_name": "李四",
    "phone": "13900139000",
    "province": "广东省",
    "city": "深圳市",
    "address_line": "南山区科技园 8 号",
}


def _place(user, key="k1"):
    cart = cart_get_or_create(user=user)
    cart_add(cart=cart, product_id=ProductFactory(name="纯棉T恤").pk, quantity=2)
    return order_place(user=user, cart=cart, address=ADDRESS, shipping_method="express", idempotency_key=key)


def _emails_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def test_order_placed_and_paid_e_mails_go_out_after_commit_branded_with_the_shop(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = _place(user)
    # Nothing is sent before the transaction commits: the deliveries wait for on_commit.
    assert mail.outbox == [] and callbacks
    for callback in callbacks:
        callback()
    (placed,) = _emails_to(user)
    assert placed.subject.startswith("【优选商城】") and order.number in placed.subject
    assert "127.0.0.1" not in placed.subject and "纯棉T恤" in placed.body
    html, mimetype = placed.alternatives[0]
    assert mimetype == "text/html" and "优选商城" in html and order.number in html

    with django_capture_on_commit_callbacks(execute=True):
        payment_sandbox_settle(order=order, outcome="succeeded")
    subjects = [m.subject for m in _emails_to(user)]
    assert any("付款成功" in s for s in subjects)
    # The message centre has one entry per event, linked to the order.
    titles = list(Message.objects.filter(user=user).values_list("title", "link"))
    assert len(titles) == 2 and all(link == order.get_absolute_url() for _t, link in titles)


def test_a_rolled_back_order_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            _place(user)
            raise RuntimeError("checkout failed later")
    assert mail.outbox == [] and not Delivery.objects.exists() and not Message.objects.exists()


def test_a_delivery_is_queued_once_per_key_and_sent_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    order = _place(user)
    first = messages.notification_queue(
        event="order_paid", user=user, ref=order.pk, params={"order_id": order.pk}
    )
    again = messages.notification_queue(
        event="order_paid", user=user, ref=order.pk, params={"order_id": order.pk}
    )
    assert len(first) == 2 and again == []  # e-mail and site; no phone, so no SMS
    email_id = Delivery.objects.get(key=f"order_paid:{order.pk}:email").pk
    before = len(mail.outbox)
    assert messages.delivery_send(delivery_id=email_id) == "sent"
    assert messages.delivery_send(delivery_id=email_id) == "busy"
    tasks.delivery_send.delay(email_id)
    assert len(mail.outbox) == before + 1
    assert Delivery.objects.get(pk=email_id).status == Delivery.Status.SENT


def test_a_claim_left_by_a_dead_worker_is_taken_over_later():
    user = UserFactory()
    order = _place(user)
    (email_id, _site) = messages.notification_queue(
        event="order_paid", user=user, ref=order.pk, params={"order_id": order.pk}
    )
    Delivery.objects.filter(pk=email_id).update(status=Delivery.Status.SENDING, claimed_at=timezone.now())
    assert messages.delivery_send(delivery_id=email_id) == "busy"
    Delivery.objects.filter(pk=email_id).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert messages.delivery_send(delivery_id=email_id) == "sent"


class FlakyBackend:
    """An e-mail backend whose server is down for the first call."""

    calls = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, email_messages):
        FlakyBackend.calls += 1
        if FlakyBackend.calls == 1:
            raise OSError("connection refused")
        mail.outbox.extend(email_messages)
        return len(email_messages)


def test_a_failed_send_is_retried_by_the_task_and_sent_once(
    settings, eager_retries, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "notifications.tests.test_messages.FlakyBackend"
    FlakyBackend.calls = 0
    user = UserFactory()
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(user)
    (email,) = Delivery.objects.filter(user=user, channel="email")
    assert (
        email.status == Delivery.Status.SENT
        and email.attempts == 2
        and "connection refused" in email.last_error
    )
    assert [m.subject for m in mail.outbox if order.number in m.subject] != []
    assert len(_emails_to(user)) == 1


def test_messages_are_in_the_members_language(django_capture_on_commit_callbacks):
    user = UserFactory()
    messages.preference_update(user=user, language="en", opted_out=[])
    with django_capture_on_commit_callbacks(execute=True):
        _place(user)
    (email,) = _emails_to(user)
    assert email.subject.startswith("【Youxuan Mall】") and '<html lang="en">' in email.alternatives[0][0]
    assert messages.member_language(UserFactory()) == "zh-hans"


def test_members_choose_what_they_get(django_capture_on_commit_callbacks):
    user = UserFactory()
    messages.preference_update(user=user, language="", opted_out=["order_placed:email", "bogus:email"])
    assert messages.preference_for(user).opted_out == ["order_placed:email"]
    with django_capture_on_commit_callbacks(execute=True):
        _place(user)
    assert _emails_to(user) == []
    assert Message.objects.filter(user=user).count() == 1  # the site message stays on
    # Turned off after the event but before the send: skipped.
    order = Order.objects.get(user=user)
    (site_id,) = messages.notification_queue(
        event="order_paid", user=user, ref=order.pk, params={"order_id": order.pk}, channels=("site",)
    )
    messages.preference_update(user=user, language="", opted_out=["order_paid:site"])
    assert messages.delivery_send(delivery_id=site_id) == "skipped"


def test_preferences_page_saves_the_members_choices(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("notifications:preferences")
    page = client.get(url)
    assert page.status_code == 200 and "注册欢迎" in page.content.decode()
    data = {"language": "en", "kind_order_paid": ["site"], "kind_order_shipped": ["email", "site", "sms"]}
    response = client.post(url, data)
    assert response.status_code == 302
    preference = messages.preference_for(user)
    assert preference.language == "en"
    assert "order_paid:email" in preference.opted_out and "order_paid:sms" in preference.opted_out
    assert not any(item.startswith("order_shipped:") for item in preference.opted_out)
    assert "signup:email" in preference.opted_out  # unticked means off
    # The member centre links here.
    assert url in client.get(reverse("members:centre")).content.decode()


def test_message_centre_lists_marks_read_and_counts_unread_in_the_header(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(user)
        payment_sandbox_settle(order=order, outcome="succeeded")
    client.force_login(user)
    # The header never counts while a page renders: unknown to the cache, the badge asks by script.
    home = client.get(reverse("shop:home")).content.decode()
    assert reverse("notifications:unread_count") in home and "notifications/unread.js" in home
    assert client.get(reverse("notifications:unread_count")).json() == {"unread": 2}
    assert "data-unread-count>2<" in client.get(reverse("shop:home")).content.decode()
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert order.number in page and "data-unread-count>2<" in page
    first = Message.objects.filter(user=user).first()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:read", args=[first.pk]), {"open": "1"})
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert client.get(reverse("notifications:unread_count")).json() == {"unread": 1}
    assert "data-unread-count>1<" in client.get(reverse("shop:home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:read_all"))
    assert not Message.objects.filter(user=user, read_at__isnull=True).exists()
    assert client.get(reverse("notifications:unread_count")).json() == {"unread": 0}
    assert "data-unread-count hidden></span>" in client.get(reverse("shop:home")).content.decode()
    # Nobody marks another member's messages.
    other = UserFactory()
    client.force_login(other)
    Message.objects.filter(pk=first.pk).update(read_at=None)
    client.post(reverse("notifications:read", args=[first.pk]))
    assert Message.objects.get(pk=first.pk).read_at is None
    # Guests get no badge and no script.
    client.logout()
    assert "data-unread-count" not in client.get(reverse("shop:home")).content.decode()


def test_sms_goes_to_the_members_phone_through_the_configured_backend(django_capture_on_commit_callbacks):
    user = UserFactory()
    Profile.objects.update_or_create(user=user, defaults={"phone": "13800001111"})
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(user)
        payment_sandbox_settle(order=order, outcome="succeeded")
    assert ConsoleSmsBackend.sent == [
        ("13800001111", "order_paid", {"shop": "优选商城", "order": order.number, "total": str(order.total)})
    ]


def test_refund_message(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(user)
        payment_sandbox_settle(order=order, outcome="succeeded")
    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(order=order, by=StaffFactory(), note="缺货")
    assert any("退款" in m.subject and order.number in m.subject for m in _emails_to(user))


def test_points_about_to_expire_are_reminded_once(django_capture_on_commit_callbacks):
    user, staff = UserFactory(), StaffFactory()
    points_staff_adjust(user=user, delta=300, staff=staff, note="补偿")
    PointsLot.objects.filter(user=user).update(expires_at=timezone.now() + timedelta(days=5))
    later = UserFactory()
    points_staff_adjust(user=later, delta=100, staff=staff, note="补偿")
    PointsLot.objects.filter(user=later).update(expires_at=timezone.now() + timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.points_expiring_remind.delay().get() == 2  # e-mail and site message
    (email,) = _emails_to(user)
    assert "300" in email.subject and _emails_to(later) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.points_expiring_remind.delay().get() == 0  # the next day: already reminded
    assert len(_emails_to(user)) == 1


def test_coupons_about_to_expire_are_reminded_once(django_capture_on_commit_callbacks):
    coupon = CouponFactory(valid_until=timezone.now() + timedelta(days=3))
    CouponFactory(user=coupon.user, valid_until=timezone.now() + timedelta(days=6))
    CouponFactory(valid_until=timezone.now() + timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.coupons_expiring_remind.delay()
        tasks.coupons_expiring_remind.delay()
    (email,) = mail.outbox
    assert email.to == [coupon.user.email] and "2" in email.subject


def test_a_message_about_a_vanished_order_is_skipped():
    user = UserFactory()
    order = _place(user)
    ids = messages.notification_queue(
        event="order_paid", user=user, ref=order.pk, params={"order_id": 999999}
    )
    assert messages.delivery_send(delivery_id=ids[0]) == "skipped"
    assert Order.objects.filter(pk=order.pk).exists() and mail.outbox == []


def test_staff_resend_a_failed_message_but_never_a_sent_one(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    order = _place(user)
    email_id, site_id = messages.notification_queue(
        event="order_paid", user=user, ref=order.pk, params={"order_id": order.pk}
    )
    Delivery.objects.filter(pk=email_id).update(status=Delivery.Status.FAILED, last_error="smtp down")
    Delivery.objects.filter(pk=site_id).update(status=Delivery.Status.SENT)
    client.force_login(StaffFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_delivery_changelist"),
            {"action": "resend_failed", "_selected_action": [email_id, site_id]},
        )
    assert response.status_code == 302
    assert Delivery.objects.get(pk=email_id).status == Delivery.Status.SENT and len(_emails_to(user)) == 1
    assert not Message.objects.filter(user=user).exists()  # the "sent" site message was not made again
