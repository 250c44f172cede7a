"""What was sent to whom: preferences, deliveries (one per idempotency key), in-site messages, webhooks."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("邮件")
    SITE = "site", _("站内信")
    SMS = "sms", _("短信")


class MessagePreference(models.Model):
    """A member's choices: the language of their messages and the (event, channel) pairs turned off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="message_preference", on_delete=models.CASCADE
    )
    language = models.CharField(
        _("消息语言"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("留空则使用商城默认语言。"),
    )
    # "order_shipped:sms" and the like; everything not listed is on (defaults on).
    opted_out = models.JSONField(_("已关闭的消息"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("消息设置")
        verbose_name_plural = _("消息设置")

    def __str__(self):
        return str(self.user)

    def wants(self, event: str, channel: str) -> bool:
        return f"{event}:{channel}" not in self.opted_out


class Delivery(models.Model):
    """One message to one member on one channel; its key makes it happen at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("已跳过")

    key = models.CharField(_("幂等键"), max_length=120, unique=True)  # "order_paid:12:email"
    event = models.CharField(_("事件"), max_length=40, db_index=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="deliveries", on_delete=models.CASCADE, verbose_name=_("会员")
    )
    # Ids and small values the templates need (order id, points, dates): rendered at send time.
    params = models.JSONField(_("参数"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("消息投递")
        verbose_name_plural = _("消息投递")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return self.key


class Message(models.Model):
    """A message in the member's in-site message centre (站内信)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="site_messages",
        on_delete=models.CASCADE,
        verbose_name=_("会员"),
    )
    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, related_name="message", on_delete=models.SET_NULL
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("站内信")
        verbose_name_plural = _("站内信")
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return self.title

    @property
    def is_read(self):
        return self.read_at is not None


class WebhookEndpoint(models.Model):
    """An outside system (ERP, warehouse, CRM) that receives signed JSON POSTs for the events it names."""

    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("地址"), max_length=500)
    secret = models.CharField(
        _("签名密钥"), max_length=200, help_text=_("用于 HMAC-SHA256 签名，请与接收方共享。")
    )
    # Patterns such as "order.*", "return.decided", "points.*".
    events = models.JSONField(_("订阅事件"), default=list, help_text=_("如 order.*、return.*、points.*"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("Webhook 端点")
        verbose_name_plural = _("Webhook 端点")

    def __str__(self):
        return self.name

    def subscribes_to(self, event_type: str) -> bool:
        for pattern in self.events or []:
            if pattern in ("*", event_type):
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


class WebhookDelivery(models.Model):
    """One event sent to one endpoint: the exact body, its state, and every attempt below it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")

    endpoint = models.ForeignKey(
        WebhookEndpoint, related_name="deliveries", on_delete=models.CASCADE, verbose_name=_("端点")
    )
    event_id = models.UUIDField(_("事件 ID"), db_index=True)
    event_type = models.CharField(_("事件类型"), max_length=50, db_index=True)
    event_key = models.CharField(_("事件键"), max_length=120)  # "order.paid:12": one event, once per endpoint
    body = models.TextField(_("请求体"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    response_status = models.PositiveIntegerField(_("响应状态"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook 投递")
        verbose_name_plural = _("Webhook 投递")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_key"], name="webhook_delivery_once_per_endpoint"
            )
        ]

    def __str__(self):
        return f"{self.event_type} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, related_name="attempt_log", on_delete=models.CASCADE, verbose_name=_("投递")
    )
    number = models.PositiveIntegerField(_("第几次"))
    response_status = models.PositiveIntegerField(_("响应状态"), null=True, blank=True)
    response_excerpt = models.CharField(_("响应摘录"), max_length=500, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时(毫秒)"), default=0)
    succeeded = models.BooleanField(_("成功"), default=False)
    replay = models.BooleanField(_("重放"), default=False)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("Webhook 尝试")
        verbose_name_plural = _("Webhook 尝试")

    def __str__(self):
        return f"#{self.number} {self.response_status or self.error}"
