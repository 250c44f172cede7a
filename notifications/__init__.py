"""Notifications: e-mails, the in-site message centre, SMS and webhooks that follow the shop's events."""
