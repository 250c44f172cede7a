"""Notification services: member messages (messages.py), reminders (reminders.py), webhooks (webhooks.py)."""
