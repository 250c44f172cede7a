"""Checkout: price a cart, and turn it into an order with stock taken atomically."""

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.addresses import PHONE_INVALID, POSTCODE_INVALID, phone_normalise, postcode_normalise
from core.errors import DomainError
from core.locks import lock_rows
from shop import signals
from shop.discounts import discount_policy
from shop.models import ZERO, CartItem, Order, OrderLine, OrderStatusChange, Product
from shop.services.cart import cart_lock

ADDRESS_FIELDS = (
    "recipient_name",
    "phone",
    "province",
    "city",
    "district",
    "address_line",
    "postcode",
    "note",
)
REQUIRED_ADDRESS_FIELDS = ("recipient_name", "phone", "province", "city", "address_line")


@dataclass
class CheckoutSummary:
    """What the shopper would pay: lines at today's prices, shipping, discounts, total."""

    lines: list = field(default_factory=list)  # [(product, quantity, line_total)]
    subtotal: Decimal = ZERO
    shipping_method: str = ""
    shipping_fee: Decimal = ZERO
    coupon_discount: Decimal = ZERO
    points_discount: Decimal = ZERO
    points_used: int = 0
    problems: list = field(default_factory=list)

    @property
    def total(self):
        return max(ZERO, self.subtotal + self.shipping_fee - self.coupon_discount - self.points_discount)


def shipping_methods():
    return settings.SHOP_SHIPPING_METHODS


def shipping_fee_for(*, method: str, subtotal: Decimal) -> Decimal:
    rule = shipping_methods().get(method)
    if rule is None:
        raise DomainError(
            _("请选择有效的配送方式。"), code="invalid_shipping_method", field="shipping_method"
        )
    free_over = rule.get("free_over")
    if free_over is not None and subtotal >= Decimal(free_over):
        return ZERO
    return Decimal(rule["fee"])


def checkout_summary(
    *, user, cart, shipping_method, coupon_code="", points=0, client_ip=""
) -> CheckoutSummary:
    """Price the cart without changing anything (the checkout page's summary)."""
    items = list(CartItem.objects.filter(cart=cart).select_related("product").order_by("product_id"))
    lines = [(i.product, i.quantity, i.product.price * i.quantity) for i in items]
    subtotal = sum((total for _p, _q, total in lines), ZERO)
    summary = CheckoutSummary(lines=lines, subtotal=subtotal, shipping_method=shipping_method)
    if shipping_method in shipping_methods():
        summary.shipping_fee = shipping_fee_for(method=shipping_method, subtotal=subtotal)
    quote = discount_policy().quote(
        user=user, lines=lines, subtotal=subtotal, coupon_code=coupon_code, points=points, client_ip=client_ip
    )
    summary.coupon_discount = quote.coupon_discount
    summary.points_discount = quote.points_discount
    summary.points_used = quote.points_used
    summary.problems = list(quote.problems)
    return summary


def _new_order_number():
    return f"{timezone.localtime():%Y%m%d%H%M}{secrets.randbelow(10**6):06d}"


def _order_create(*, idempotency_key, **fields) -> Order:
    """Insert the order under a fresh random number, drawing again on the rare number clash."""
    for _attempt in range(5):
        try:
            with transaction.atomic():  # a savepoint: a clash must not spoil the outer transaction
                return Order.objects.create(
                    number=_new_order_number(), idempotency_key=idempotency_key, **fields
                )
        except IntegrityError:
            if Order.objects.filter(idempotency_key=idempotency_key).exists():
                raise  # a double submit, not a number clash: order_place hands back that order
    raise DomainError(_("系统繁忙，请稍后重试。"), code="order_number_exhausted")


def _clean_address(address: dict) -> dict:
    cleaned = {name: str(address.get(name, "") or "").strip() for name in ADDRESS_FIELDS}
    missing = [name for name in REQUIRED_ADDRESS_FIELDS if not cleaned[name]]
    if missing:
        raise DomainError(_("请填写完整的收货地址。"), code="invalid_address", field=missing[0])
    cleaned["phone"] = phone_normalise(cleaned["phone"])
    if cleaned["phone"] is None:
        raise DomainError(PHONE_INVALID, code="invalid_address", field="phone")
    cleaned["postcode"] = postcode_normalise(cleaned["postcode"])
    if cleaned["postcode"] is None:
        raise DomainError(POSTCODE_INVALID, code="invalid_address", field="postcode")
    limits = {f.name: f.max_length for f in Order._meta.get_fields() if f.name in ADDRESS_FIELDS}
    for name, value in cleaned.items():
        if len(value) > limits[name]:
            raise DomainError(_("收货地址中有内容过长。"), code="invalid_address", field=name)
    return cleaned


def order_place(
    *,
    user,
    cart,
    address: dict,
    shipping_method: str,
    idempotency_key: str,
    coupon_code: str = "",
    points: int = 0,
    client_ip: str = "",
) -> Order:
    """Turn the cart into an order awaiting payment; the same idempotency key returns the same order.

    The cart row is locked and its lines read inside the lock, so a cart becomes one order however
    many checkout pages submit it; the others find it empty (or, with the same key, get the first
    order). Product rows are locked in primary-key order and stock is taken with a conditional
    update, so two checkouts of the last unit sell it once. Prices come from the database.
    """
    if not user or not user.is_authenticated:
        raise DomainError(_("请先登录。"), code="login_required")
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 64:
        raise DomainError(_("结算页面已失效，请刷新后重试。"), code="invalid_idempotency_key")
    existing = Order.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_owner_or_error(existing, user)
    try:
        return _order_place_atomic(
            user=user,
            cart=cart,
            address=address,
            shipping_method=shipping_method,
            idempotency_key=idempotency_key,
            coupon_code=coupon_code,
            points=points,
            client_ip=client_ip,
        )
    except IntegrityError:
        # A double submit raced us to the unique key: hand back the order it created.
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_owner_or_error(existing, user)


def _same_owner_or_error(order, user):
    if order.user_id != user.pk:
        raise DomainError(_("结算页面已失效，请刷新后重试。"), code="invalid_idempotency_key")
    return order


@transaction.atomic
def _order_place_atomic(
    *, user, cart, address, shipping_method, idempotency_key, coupon_code, points, client_ip
) -> Order:
    address = _clean_address(address)
    try:
        points = max(0, int(points or 0))
    except (TypeError, ValueError):
        raise DomainError(_("积分必须是整数。"), code="invalid_points", field="points") from None
    if cart is None or cart.user_id != user.pk:
        raise DomainError(_("购物车是空的。"), code="empty_cart")
    cart_lock(cart)
    # A double submit that waited for the lock finds the order the first one placed.
    existing = Order.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_owner_or_error(existing, user)
    items = list(CartItem.objects.filter(cart=cart).order_by("product_id"))
    if not items:
        raise DomainError(_("购物车是空的。"), code="empty_cart")
    # Lock the products in a fixed order, then read stock and price inside the lock.
    products = {p.pk: p for p in lock_rows(Product.objects.filter(pk__in=[i.product_id for i in items]))}
    lines = []
    for item in items:
        product = products.get(item.product_id)
        if product is None or not product.is_active:
            raise DomainError(_("购物车中有商品已下架，请先移除。"), code="product_unavailable")
        if item.quantity > product.stock:
            raise DomainError(
                _("“%(name)s”库存不足（剩余 %(stock)s 件）。")
                % {"name": product.name, "stock": product.stock},
                code="insufficient_stock",
            )
        lines.append((product, item.quantity, product.price * item.quantity))
    subtotal = sum((total for _p, _q, total in lines), ZERO)
    shipping_fee = shipping_fee_for(method=shipping_method, subtotal=subtotal)

    order = _order_create(
        user=user,
        idempotency_key=idempotency_key,
        subtotal=subtotal,
        shipping_fee=shipping_fee,
        total=subtotal + shipping_fee,
        shipping_method=shipping_method,
        **address,
    )
    quote = discount_policy().apply(
        order=order, user=user, lines=lines, coupon_code=coupon_code, points=points, client_ip=client_ip
    )
    order.coupon_discount = quote.coupon_discount
    order.points_discount = quote.points_discount
    order.points_used = quote.points_used
    order.total = max(ZERO, subtotal + shipping_fee - quote.coupon_discount - quote.points_discount)
    order.save(update_fields=["coupon_discount", "points_discount", "points_used", "total"])

    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=product,
                product_name=product.name,
                sku=product.sku,
                unit_price=product.price,
                quantity=quantity,
                line_total=line_total,
            )
            for product, quantity, line_total in lines
        ]
    )
    for product, quantity, _total in lines:
        taken = Product.objects.filter(pk=product.pk, stock__gte=quantity).update(stock=F("stock") - quantity)
        if taken != 1:  # cannot happen under the lock; kept as the guard that holds without one
            raise DomainError(_("“%(name)s”库存不足。") % {"name": product.name}, code="insufficient_stock")
    OrderStatusChange.objects.create(order=order, from_status="", to_status=order.status, changed_by=user)
    CartItem.objects.filter(cart=cart).delete()
    signals.order_placed.send(sender=Order, order=order)
    return order
