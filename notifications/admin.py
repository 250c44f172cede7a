"""Staff screens: webhook endpoints and their delivery log (with replay), member message deliveries."""

import secrets

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.events import WEBHOOK_EVENT_TYPES
from notifications.models import Delivery, Message, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from notifications.services import webhooks
from notifications.tasks import deliveries_enqueue

EVENT_PATTERNS = (
    [("*", _("全部事件"))]
    + [(f"{prefix}.*", f"{prefix}.*") for prefix in sorted({t.split(".")[0] for t in WEBHOOK_EVENT_TYPES})]
    + [(t, t) for t in WEBHOOK_EVENT_TYPES]
)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("地址"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("订阅事件"), choices=EVENT_PATTERNS, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "events", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["secret"].initial = secrets.token_urlsafe(32)

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("只支持 http 或 https 地址。"))
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = [
        "number",
        "created_at",
        "response_status",
        "duration_ms",
        "succeeded",
        "replay",
        "error",
        "response_excerpt",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["event_key", "event_id"]
    readonly_fields = [
        "endpoint",
        "event_id",
        "event_type",
        "event_key",
        "body",
        "status",
        "attempts",
        "response_status",
        "claimed_at",
        "created_at",
        "delivered_at",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("重新发送所选 Webhook"), permissions=["change"])
    def replay(self, request, queryset):
        ids = webhooks.webhook_deliveries_replay(deliveries=list(queryset))
        deliveries_enqueue(webhook_ids=ids, replay=True)
        self.message_user(
            request,
            ngettext("已重新排队 %(count)d 条投递。", "已重新排队 %(count)d 条投递。", len(ids))
            % {"count": len(ids)},
            messages.SUCCESS,
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "event",
        "channel",
        "user",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "event"]
    search_fields = ["key"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["resend_failed"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("重新发送所选失败的消息"), permissions=["change"])
    def resend_failed(self, request, queryset):
        # Only failed ones: a sent message stays sent once (its key is the promise).
        ids = list(queryset.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True))
        deliveries_enqueue(delivery_ids=ids)
        self.message_user(
            request,
            ngettext("已重新排队 %(count)d 条消息。", "已重新排队 %(count)d 条消息。", len(ids))
            % {"count": len(ids)},
            messages.SUCCESS,
        )


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "created_at", "read_at"]
    search_fields = ["title"]
    readonly_fields = ["user", "delivery", "read_at", "created_at"]
    raw_id_fields = ["user"]
