"""Celery tasks of the storefront: entry points that call services."""

from celery import shared_task

from shop.services.orders import orders_cancel_unpaid


@shared_task(name="shop.tasks.cancel_unpaid_orders", time_limit=120, soft_time_limit=100)
def cancel_unpaid_orders() -> int:
    """Cancel orders still unpaid 30 minutes after placement (stock, coupon and points go back)."""
    return orders_cancel_unpaid()
