"""Reads for the message centre."""

from notifications.models import Message


def unread_count(user) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).count()


def messages_for(user):
    return Message.objects.filter(user=user).order_by("-created_at", "-id")
