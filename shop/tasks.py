"""Celery tasks of the storefront: entry points that call services."""

from celery import shared_task

from shop.services.fulfilment import orders_complete_due, orders_confirm_receipt_due
from shop.services.orders import orders_cancel_unpaid


@shared_task(name="shop.tasks.cancel_unpaid_orders", time_limit=120, soft_time_limit=100)
def cancel_unpaid_orders() -> int:
    """Cancel orders still unpaid 30 minutes after placement (stock, coupon and points go back)."""
    return orders_cancel_unpaid()


@shared_task(name="shop.tasks.confirm_receipt_due", time_limit=600, soft_time_limit=540)
def confirm_receipt_due() -> int:
    """Confirm receipt of orders shipped SHOP_AUTO_CONFIRM_DAYS ago (the return window starts)."""
    return orders_confirm_receipt_due()


@shared_task(name="shop.tasks.complete_orders_due", time_limit=600, soft_time_limit=540)
def complete_orders_due() -> int:
    """Complete orders whose return window closed; their pending points become available."""
    return orders_complete_due()
