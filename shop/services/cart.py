"""Cart changes: add, set quantity, remove, and taking note of price changes.

Every change locks the cart row first (checkout holds the same lock while it turns the cart into an
order), so one cart's changes and its checkout run one after another and always lock in one order:
cart, then its lines, then products.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_row, lock_row_or_none, lock_rows
from shop.models import Cart, CartItem, Event, Product
from shop.services.events import event_record

MAX_QUANTITY_PER_LINE = 99


def cart_get_or_create(*, user=None, session_key=""):
    """The member's cart, or the guest cart for `session_key` (the visitor id), created if absent."""
    if user is not None and user.is_authenticated:
        lookup = {"user": user}
    elif session_key:
        lookup = {"session_key": session_key, "user": None}
    else:
        raise DomainError(_("无法识别购物车，请启用 Cookie 后重试。"), code="no_session")
    try:
        with transaction.atomic():
            cart, _created = Cart.objects.get_or_create(**lookup)
    except IntegrityError:  # a concurrent request created it first
        cart = Cart.objects.get(**lookup)
    return cart


def cart_lock(cart: Cart) -> Cart:
    """Lock the cart row (read again); call inside a transaction before touching its lines."""
    try:
        return lock_row(Cart.objects.all(), cart.pk)
    except Cart.DoesNotExist:  # merged into the member's cart at login meanwhile
        raise DomainError(_("购物车已变化，请刷新后重试。"), code="cart_changed") from None


def _active_product(product_id):
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        raise DomainError(_("商品不存在。"), code="product_not_found") from None
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise DomainError(_("商品不存在或已下架。"), code="product_not_found")
    return product


def _check_quantity(quantity):
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise DomainError(_("数量必须是整数。"), code="invalid_quantity") from None
    if quantity < 1 or quantity > MAX_QUANTITY_PER_LINE:
        raise DomainError(
            _("数量必须在 1 到 %(max)s 之间。") % {"max": MAX_QUANTITY_PER_LINE}, code="invalid_quantity"
        )
    return quantity


def _check_stock(product, quantity):
    if product.stock <= 0:
        raise DomainError(_("“%(name)s”已售罄。") % {"name": product.name}, code="out_of_stock")
    if quantity > product.stock:
        raise DomainError(
            _("“%(name)s”库存仅剩 %(stock)s 件。") % {"name": product.name, "stock": product.stock},
            code="insufficient_stock",
        )


def _record(cart, kind, product, quantity):
    event_record(
        kind=kind, user=cart.user, session_key=cart.session_key or "", product=product, value=quantity
    )


@transaction.atomic
def cart_add(*, cart: Cart, product_id, quantity=1) -> CartItem:
    """Add `quantity` of a product (the price always comes from the database, never the form)."""
    quantity = _check_quantity(quantity)
    product = _active_product(product_id)
    # Concurrent first adds of one product queue on the cart lock, so the second finds the line the
    # first inserted instead of inserting a duplicate (once a 500 on the unique constraint).
    cart_lock(cart)
    item = lock_row_or_none(CartItem.objects.filter(cart=cart, product=product))
    new_quantity = quantity + (item.quantity if item else 0)
    if new_quantity > MAX_QUANTITY_PER_LINE:
        raise DomainError(
            _("每件商品最多购买 %(max)s 件。") % {"max": MAX_QUANTITY_PER_LINE}, code="invalid_quantity"
        )
    _check_stock(product, new_quantity)
    if item:
        CartItem.objects.filter(pk=item.pk).update(
            quantity=F("quantity") + quantity, unit_price=product.price
        )
        item.refresh_from_db(fields=["quantity", "unit_price"])
    else:
        item = CartItem.objects.create(
            cart=cart, product=product, quantity=quantity, unit_price=product.price
        )
    cart.save(update_fields=["updated_at"])
    _record(cart, Event.Kind.CART_ADD, product, quantity)
    return item


@transaction.atomic
def cart_set_quantity(*, cart: Cart, product_id, quantity) -> CartItem | None:
    """Set a line's quantity; 0 removes it. Returns the item, or None when removed."""
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise DomainError(_("数量必须是整数。"), code="invalid_quantity") from None
    if quantity == 0:
        cart_remove(cart=cart, product_id=product_id)
        return None
    quantity = _check_quantity(quantity)
    cart_lock(cart)
    item = lock_row_or_none(
        CartItem.objects.select_related("product").filter(cart=cart, product_id=_int_or_none(product_id))
    )
    if item is None:
        raise DomainError(_("购物车中没有这件商品。"), code="not_in_cart")
    if not item.product.is_active:
        raise DomainError(_("商品不存在或已下架。"), code="product_not_found")
    _check_stock(item.product, quantity)
    delta = quantity - item.quantity
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    if delta > 0:
        _record(cart, Event.Kind.CART_ADD, item.product, delta)
    elif delta < 0:
        _record(cart, Event.Kind.CART_REMOVE, item.product, -delta)
    return item


@transaction.atomic
def cart_remove(*, cart: Cart, product_id) -> None:
    cart_lock(cart)
    item = lock_row_or_none(
        CartItem.objects.select_related("product").filter(cart=cart, product_id=_int_or_none(product_id))
    )
    if item is None:
        raise DomainError(_("购物车中没有这件商品。"), code="not_in_cart")
    item.delete()
    _record(cart, Event.Kind.CART_REMOVE, item.product, item.quantity)


@transaction.atomic
def cart_prices_acknowledge(*, cart: Cart) -> int:
    """Take the current prices as seen (clears the "price changed" notices); returns lines changed."""
    changed = 0
    cart_lock(cart)
    for item in lock_rows(CartItem.objects.select_related("product").filter(cart=cart)):
        if item.unit_price != item.product.price:
            item.unit_price = item.product.price
            item.save(update_fields=["unit_price"])
            changed += 1
    return changed


@transaction.atomic
def cart_merge(*, source: Cart, target: Cart) -> None:
    """Move a guest cart's lines into the member's cart (quantities add up, capped at stock)."""
    if source.pk == target.pk:
        return
    lock_rows(Cart.objects.filter(pk__in=[source.pk, target.pk]))
    existing = {i.product_id: i for i in lock_rows(CartItem.objects.filter(cart=target))}
    for item in lock_rows(CartItem.objects.select_related("product").filter(cart=source)):
        cap = min(item.product.stock, MAX_QUANTITY_PER_LINE)
        if item.product_id in existing:
            kept = existing[item.product_id]
            kept.quantity = max(1, min(kept.quantity + item.quantity, cap))
            kept.save(update_fields=["quantity"])
        else:
            CartItem.objects.create(
                cart=target,
                product=item.product,
                quantity=max(1, min(item.quantity, cap)),
                unit_price=item.unit_price,
            )
    source.delete()


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
