"""Member messages: queue one delivery per (event, subject, channel) once, then send it exactly once.

`notification_queue` runs inside the caller's transaction and writes Delivery rows keyed
"<event>:<ref>:<channel>" (a signal sent twice, or a retried task, finds the row and queues nothing).
The caller enqueues the returned ids after commit (notifications.tasks.deliveries_enqueue).
`delivery_send` claims the row with one conditional UPDATE, so two workers never both send it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.models import Profile, member_label
from notifications import sms
from notifications.events import EMAIL, MESSAGE_KINDS, SITE, SMS
from notifications.models import Delivery, Message, MessagePreference
from notifications.selectors import unread_cache_key
from shop.models import Order

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died: another may take the delivery over.
CLAIM_TIMEOUT = timedelta(minutes=10)


class DeliveryFailed(Exception):
    """Sending failed for a reason worth retrying (mail server down, SMS gateway error)."""


def preference_for(user) -> MessagePreference:
    preference, _created = MessagePreference.objects.get_or_create(user=user)
    return preference


def preference_update(*, user, language: str, opted_out: list[str]) -> MessagePreference:
    valid = {f"{kind.name}:{channel}" for kind in MESSAGE_KINDS.values() for channel in kind.channels}
    languages = {code for code, _label in settings.LANGUAGES}
    with transaction.atomic():
        preference = preference_for(user)
        preference.language = language if language in languages else ""
        preference.opted_out = sorted(set(opted_out) & valid)
        preference.save(update_fields=["language", "opted_out", "updated_at"])
    return preference


def member_language(user) -> str:
    """The member's chosen language, else their profile's (if it has one), else the shop's default."""
    preference = MessagePreference.objects.filter(user=user).first()
    profile = Profile.objects.filter(user=user).first()
    for code in (preference and preference.language, getattr(profile, "language", "")):
        if code:
            return code
    return settings.LANGUAGE_CODE


def _phone_of(user) -> str:
    return Profile.objects.filter(user=user).values_list("phone", flat=True).first() or ""


def notification_queue(*, event: str, user, ref, params: dict | None = None, channels=None) -> list[int]:
    """Write a pending delivery for each channel of `event` the member wants; return the new ids.

    `ref` names what the message is about (an order id, "2026-12-09"): with event and channel it makes
    the idempotency key. A member without an e-mail or phone gets nothing on that channel.
    """
    kind = MESSAGE_KINDS[event]
    if user is None or not user.is_active:
        return []
    created_ids = []
    with transaction.atomic():
        preference = preference_for(user)
        for channel in kind.channels:
            if channels is not None and channel not in channels:
                continue
            if not preference.wants(event, channel):
                continue
            if (channel == EMAIL and not user.email) or (channel == SMS and not _phone_of(user)):
                continue
            delivery, created = Delivery.objects.get_or_create(
                key=f"{event}:{ref}:{channel}"[:120],
                defaults={"event": event, "channel": channel, "user": user, "params": params or {}},
            )
            if created:
                created_ids.append(delivery.pk)
    return created_ids


def _delivery_claim(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    claimable = Q(status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED]) | Q(
        status=Delivery.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    )
    claimed = Delivery.objects.filter(claimable, pk=delivery_id).update(
        status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return Delivery.objects.select_related("user").get(pk=delivery_id) if claimed else None


def _absolute(path: str) -> str:
    return settings.SHOP_SITE_URL.rstrip("/") + path


def _shipments_of(order) -> list[dict]:
    # Every parcel of the order so far (a split order ships more than one), carrier and tracking number.
    related = getattr(order, "shipments", None)
    rows = list(related.all()) if related is not None else []
    return [{"carrier": row.carrier, "tracking": row.tracking_number} for row in rows]


def _context(delivery: Delivery) -> dict | None:
    """What the templates need, loaded now (not when queued); None when the subject is gone."""
    user, params = delivery.user, delivery.params
    profile = Profile.objects.filter(user=user).first()
    context = {
        "language": translation.get_language(),
        "shop_name": _(settings.SHOP_NAME),
        "site_url": settings.SHOP_SITE_URL.rstrip("/"),
        "member_name": (profile and profile.display_name) or member_label(user.pk),
        "params": params,
        "link": reverse("notifications:inbox"),
    }
    if "order_id" in params:
        order = Order.objects.filter(pk=params["order_id"], user=user).prefetch_related("lines").first()
        if order is None:
            return None
        context.update(order=order, link=order.get_absolute_url())
        if delivery.event == "order_shipped":
            context["shipments"] = _shipments_of(order)
    if delivery.event in ("points_expiring",):
        context["link"] = reverse("members:points")
    if delivery.event in ("coupons_expiring",):
        context["link"] = reverse("members:coupons")
    if delivery.event == "signup":
        context["link"] = reverse("members:centre")
    context["absolute_link"] = _absolute(context["link"])
    return context


def _render(delivery: Delivery, context: dict) -> dict:
    base = f"notifications/email/{delivery.event}"
    return {
        "subject": f"【{context['shop_name']}】"
        + " ".join(render_to_string(f"{base}_subject.txt", context).split()),
        "text": render_to_string(f"{base}.txt", context),
        "html": render_to_string(f"{base}.html", context),
        "short": render_to_string(f"notifications/site/{delivery.event}.txt", context).strip(),
    }


def _sms_params(context: dict) -> dict:
    params = {"shop": str(context["shop_name"])}
    if order := context.get("order"):
        params.update(order=order.number, total=str(order.total))
    for shipment in context.get("shipments", [])[:1]:
        params.update(carrier=shipment["carrier"], tracking=shipment["tracking"])
    return params


def delivery_send(*, delivery_id: int, final: bool = False) -> str:
    """Send one delivery if this call claims it; "sent", "skipped" or "busy" (someone else has it).

    Raises DeliveryFailed after putting the row back (or marking it failed when `final`): the task retries.
    """
    delivery = _delivery_claim(delivery_id)
    if delivery is None:
        return "busy"
    if not preference_for(delivery.user).wants(delivery.event, delivery.channel):
        # Turned off between the event and the send: the member's latest choice wins.
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SKIPPED)
        return "skipped"
    try:
        with translation.override(member_language(delivery.user)):
            context = _context(delivery)
            if context is None:
                Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SKIPPED)
                return "skipped"
            rendered = _render(delivery, context)
        if delivery.channel == EMAIL:
            email = EmailMultiAlternatives(
                subject=rendered["subject"],
                body=rendered["text"],
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[delivery.user.email],
                headers={"X-Shop-Delivery": delivery.key},
            )
            email.attach_alternative(rendered["html"], "text/html")
            email.send(fail_silently=False)
        elif delivery.channel == SMS:
            phone = _phone_of(delivery.user)
            if not phone:
                Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SKIPPED)
                return "skipped"
            sms.send(phone, delivery.event, _sms_params(context))
    except Exception as exc:
        status = Delivery.Status.FAILED if final else Delivery.Status.PENDING
        Delivery.objects.filter(pk=delivery.pk).update(status=status, last_error=repr(exc)[:500])
        logger.warning("delivery %s failed (attempt %s): %r", delivery.key, delivery.attempts, exc)
        raise DeliveryFailed(str(exc)) from exc
    with transaction.atomic():
        if delivery.channel == SITE:
            # The message row is the "send": written with the status, so a retry cannot add a second.
            Message.objects.get_or_create(
                delivery=delivery,
                defaults={
                    "user": delivery.user,
                    "title": rendered["subject"][:200],
                    "body": rendered["short"],
                    "link": context["link"],
                },
            )
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT, sent_at=timezone.now())
        if delivery.channel == SITE:
            _unread_changed(delivery.user_id)
    return "sent"


def _unread_changed(user_id) -> None:
    # After commit: a header read between the change and the commit must not cache the old count.
    transaction.on_commit(lambda: cache.delete(unread_cache_key(user_id)))


def message_mark_read(*, user, message_id: int) -> Message | None:
    message = Message.objects.filter(user=user, pk=message_id).first()
    if message and message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())
        message.refresh_from_db(fields=["read_at"])
        _unread_changed(user.pk)
    return message


def messages_mark_all_read(*, user) -> int:
    count = Message.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    _unread_changed(user.pk)
    return count
