"""After-sales races on PostgreSQL: receipt, requests, decisions and refunds at the same moment apply once."""

import functools
from decimal import Decimal

import pytest

from core.errors import DomainError
from core.testing import run_concurrently
from members.models import PointsEntry
from members.services.points import points_ledger_differences
from shop.models import AfterSale, Order, OrderStatusChange, Refund
from shop.services.aftersales import aftersale_decide, aftersale_refund, aftersale_request
from shop.services.fulfilment import order_confirm_receipt, shipment_create
from shop.tests.factories import ProductFactory, UserFactory
from shop.tests.test_aftersales import paid_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 6


def _refused(results):
    return [r for r in results if isinstance(r, DomainError)]


def test_confirming_receipt_at_once_confirms_once():
    user = UserFactory()
    order = paid_order(user, [(ProductFactory(stock=5), 1)])
    shipment_create(order=order, carrier="顺丰速运", tracking_number="SF1")
    results = run_concurrently(
        *[functools.partial(order_confirm_receipt, order=order, by=user)] * THREADS, catch=(DomainError,)
    )
    assert len(_refused(results)) == THREADS - 1
    assert OrderStatusChange.objects.filter(order=order, to_status=Order.Status.RECEIVED).count() == 1


def test_concurrent_requests_never_claim_more_units_than_were_bought():
    user = UserFactory()
    product = ProductFactory(stock=5)
    order = paid_order(user, [(product, 2)])
    line = order.lines.get()
    request = functools.partial(
        aftersale_request, order=order, user=user, kind="refund_only", lines=[(line.pk, 1)], reason="不要了"
    )
    results = run_concurrently(*[request] * THREADS, catch=(DomainError,))
    assert len(_refused(results)) == THREADS - 2
    assert AfterSale.objects.filter(order=order).count() == 2


def test_two_staff_approving_one_return_at_once_refund_it_once():
    user, staff = UserFactory(), UserFactory(is_staff=True)
    product = ProductFactory(price=Decimal("80.00"), stock=5)
    order = paid_order(user, [(product, 2)])
    after_sale = aftersale_request(
        order=order, user=user, kind="refund_only", lines=[(order.lines.get().pk, 1)], reason="拍错了"
    )
    results = run_concurrently(
        *[functools.partial(aftersale_decide, after_sale=after_sale, approve=True, by=staff, note="同意")]
        * THREADS,
        catch=(DomainError,),
    )
    assert len(_refused(results)) == THREADS - 1
    assert Refund.objects.filter(order=order).count() == 1
    assert Refund.objects.get().amount == Decimal("80.00")
    product.refresh_from_db()
    assert product.stock == 4  # 5 - 2 bought + 1 back
    assert PointsEntry.objects.filter(idempotency_key__startswith=f"order:{order.pk}:refund:").count() == 1
    assert points_ledger_differences() == []


def test_refunding_one_after_sale_at_once_sends_the_money_once():
    user, staff = UserFactory(), UserFactory(is_staff=True)
    product = ProductFactory(price=Decimal("30.00"), stock=5)
    order = paid_order(user, [(product, 3)])
    after_sale = aftersale_request(
        order=order, user=user, kind="refund_only", lines=[(order.lines.get().pk, 1)], reason="x"
    )
    AfterSale.objects.filter(pk=after_sale.pk).update(status=AfterSale.Status.APPROVED)
    results = run_concurrently(
        *[functools.partial(aftersale_refund, after_sale=after_sale, by=staff)] * THREADS,
        catch=(DomainError,),
    )
    assert len(_refused(results)) == THREADS - 1
    assert Refund.objects.filter(status=Refund.Status.SUCCEEDED).count() == 1
    assert order.lines.get().refunded_quantity == 1
