"""Message centre API views: thin, over the same selectors and services as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors
from notifications.services import messages

from . import serializers as s


class MemberAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []


@extend_schema(tags=["messages"], summary="My messages (站内信), newest first")
class MessageListView(generics.ListAPIView):
    serializer_class = s.MessageSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return selectors.messages_for(self.request.user)


@extend_schema(tags=["messages"])
class UnreadCountView(MemberAPIView):
    @extend_schema(summary="How many of my messages are unread", responses=s.UnreadCountSerializer)
    def get(self, request):
        return Response({"unread": selectors.unread_count(request.user)})


@extend_schema(tags=["messages"])
class MessageReadView(MemberAPIView):
    @extend_schema(summary="Mark one of my messages read", request=None, responses=s.MessageSerializer)
    def post(self, request, message_id):
        message = messages.message_mark_read(user=request.user, message_id=message_id)
        if message is None:
            raise NotFound()
        return Response(s.MessageSerializer(message).data)


@extend_schema(tags=["messages"])
class MessagesReadAllView(MemberAPIView):
    @extend_schema(summary="Mark all my messages read", request=None, responses=s.MarkedSerializer)
    def post(self, request):
        return Response({"marked": messages.messages_mark_all_read(user=request.user)})


@extend_schema(tags=["messages"])
class MessagePreferenceView(MemberAPIView):
    @extend_schema(
        summary="My message language and the messages I turned off", responses=s.MessagePreferenceSerializer
    )
    def get(self, request):
        preference = messages.preference_for(request.user)
        return Response({"language": preference.language, "opted_out": preference.opted_out})

    @extend_schema(
        summary='Choose my message language and which messages I get ("event:channel" pairs turned off)',
        request=s.MessagePreferenceSerializer,
        responses=s.MessagePreferenceSerializer,
    )
    def put(self, request):
        data = s.MessagePreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = messages.preference_update(user=request.user, **data.validated_data)
        return Response({"language": preference.language, "opted_out": preference.opted_out})
