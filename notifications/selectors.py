"""Reads for the message centre; the header's unread count is served from the cache (no query a page)."""

from django.core.cache import cache

from notifications.models import Message

UNREAD_CACHE_SECONDS = 600


def unread_cache_key(user_id) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(user) -> int:
    """Counted in the database, and remembered for the header."""
    count = Message.objects.filter(user=user, read_at__isnull=True).count()
    cache.set(unread_cache_key(user.pk), count, UNREAD_CACHE_SECONDS)
    return count


def unread_count_cached(user_id) -> int | None:
    """The remembered count, or None when it is not known (the header then asks for it by script)."""
    return cache.get(unread_cache_key(user_id))


def messages_for(user):
    return Message.objects.filter(user=user).order_by("-created_at", "-id")
