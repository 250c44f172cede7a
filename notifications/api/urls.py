"""Message centre API routes under /api/v1/."""

from django.urls import path

from . import views

app_name = "notifications-api"
urlpatterns = [
    path("me/messages/", views.MessageListView.as_view(), name="message-list"),
    path("me/messages/unread-count/", views.UnreadCountView.as_view(), name="unread-count"),
    path("me/messages/<int:message_id>/read/", views.MessageReadView.as_view(), name="message-read"),
    path("me/messages/read-all/", views.MessagesReadAllView.as_view(), name="read-all"),
    path("me/message-preferences/", views.MessagePreferenceView.as_view(), name="preferences"),
]
