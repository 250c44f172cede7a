"""The messages a member can receive: their names, labels for the preferences form and their channels."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from notifications.models import Channel


@dataclass(frozen=True)
class MessageKind:
    name: str
    label: str
    channels: tuple[str, ...]


EMAIL, SITE, SMS = Channel.EMAIL.value, Channel.SITE.value, Channel.SMS.value

MESSAGE_KINDS = {
    kind.name: kind
    for kind in (
        MessageKind("signup", _("注册欢迎"), (EMAIL, SITE)),
        MessageKind("order_placed", _("下单成功"), (EMAIL, SITE)),
        MessageKind("order_paid", _("付款成功"), (EMAIL, SITE, SMS)),
        MessageKind("order_shipped", _("订单发货"), (EMAIL, SITE, SMS)),
        MessageKind("order_refunded", _("退款到账"), (EMAIL, SITE, SMS)),
        MessageKind("return_decided", _("售后审核结果"), (EMAIL, SITE)),
        MessageKind("points_expiring", _("积分即将过期"), (EMAIL, SITE)),
        MessageKind("coupons_expiring", _("优惠券即将过期"), (EMAIL, SITE)),
    )
}

# What outside systems may subscribe to; an endpoint names these or a prefix pattern ("order.*").
WEBHOOK_EVENT_TYPES = (
    "order.placed",
    "order.paid",
    "order.shipped",
    "order.received",
    "order.completed",
    "order.cancelled",
    "order.refunded",
    "order.line_refunded",
    "return.requested",
    "return.decided",
    "points.changed",
    "points.expiring",
)
