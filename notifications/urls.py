"""Message centre URLs under /messages/."""

from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:message_id>/read/", views.message_read, name="read"),
    path("read-all/", views.messages_read_all, name="read_all"),
    path("unread-count/", views.unread_count, name="unread_count"),
    path("preferences/", views.preferences, name="preferences"),
]
