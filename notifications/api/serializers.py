"""Message centre API shapes."""

from django.conf import settings
from rest_framework import serializers

from notifications.events import MESSAGE_KINDS
from notifications.models import Message

OPT_OUT_CHOICES = [f"{kind.name}:{channel}" for kind in MESSAGE_KINDS.values() for channel in kind.channels]


class MessageSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Message
        fields = ["id", "title", "body", "link", "read", "read_at", "created_at"]
        read_only_fields = fields


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class MessagePreferenceSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[("", "")] + [(code, code) for code, _label in settings.LANGUAGES], allow_blank=True
    )
    opted_out = serializers.ListField(
        child=serializers.ChoiceField(choices=OPT_OUT_CHOICES), max_length=len(OPT_OUT_CHOICES)
    )
