"""Deleting an account: refused with the reason while an order or after-sale is open; says what is lost."""

import pytest
from django.urls import reverse

from core.errors import DomainError
from members.models import PointsAccount
from members.services.privacy import member_account_delete
from members.tests.factories import OrderLineFactory, UserFactory
from shop.models import AfterSale, Order

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-123"


@pytest.fixture
def member(client):
    user = UserFactory()
    user.set_password(PASSWORD)
    user.save()
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return user


@pytest.mark.parametrize("status", ["pending_payment", "paid", "shipped", "received"])
def test_an_open_order_blocks_deletion_and_the_page_says_which(client, member, status):
    line = OrderLineFactory(order__user=member, order__status=status)
    number = line.order.number

    page = client.get(reverse("members:account_delete"))
    response = client.post(reverse("members:account_delete"), {"confirm": "注销"})

    body = page.content.decode()
    assert "现在还不能注销" in body and number in body
    assert "永久注销" not in body  # no confirm button while it cannot be done
    assert response.status_code == 409
    order = Order.objects.get(number=number)
    assert order.user_id == member.pk and order.recipient_name != "已注销"  # the address is kept for delivery
    with pytest.raises(DomainError):
        member_account_delete(user=member)


def test_an_open_after_sale_blocks_deletion(client, member):
    line = OrderLineFactory(order__user=member, order__status=Order.Status.COMPLETED)
    AfterSale.objects.create(
        number="AS0001",
        order=line.order,
        user=member,
        kind=AfterSale.Kind.REFUND_ONLY,
        status=AfterSale.Status.REQUESTED,
        reason="质量问题",
    )

    body = client.get(reverse("members:account_delete")).content.decode()

    assert "AS0001" in body and "售后" in body


def test_the_confirm_page_says_what_will_be_lost_then_deletion_works(client, member):
    OrderLineFactory(order__user=member, order__status=Order.Status.COMPLETED)
    PointsAccount.objects.update_or_create(user=member, defaults={"available": 1234, "pending": 56})

    body = client.get(reverse("members:account_delete")).content.decode()
    response = client.post(reverse("members:account_delete"), {"confirm": "注销"})

    assert "可用积分 1234 分" in body and "待入账积分 56 分" in body and "未使用的优惠券 0 张" in body
    assert response.status_code == 302
    assert not type(member).objects.filter(pk=member.pk).exists()
