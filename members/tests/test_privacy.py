"""Account deletion: personal data goes, orders stay anonymised, product ratings stop counting it."""

from decimal import Decimal

import pytest

from members.services.privacy import member_account_delete
from members.tests.factories import OrderLineFactory, ProductFactory, UserFactory
from shop.models import Event, Order, Product, Review
from shop.services.reviews import review_submit

pytestmark = pytest.mark.django_db


def test_deleting_an_account_removes_its_reviews_from_the_product_rating():
    # given a product reviewed 5 stars by one buyer and 1 star by another
    product = ProductFactory()
    leaving, staying = UserFactory(), UserFactory()
    for user in (leaving, staying):
        OrderLineFactory(order__user=user, order__status=Order.Status.COMPLETED, product=product)
    review_submit(user=leaving, product=product, rating=1)
    review_submit(user=staying, product=product, rating=5)
    assert Product.objects.get(pk=product.pk).rating_count == 2

    # when the 1-star reviewer deletes their account
    member_account_delete(user=leaving)

    # then the product shows only the remaining review, and the order stays without a person
    product.refresh_from_db()
    assert (product.rating_count, product.rating_avg) == (1, Decimal("5.00"))
    assert not Review.objects.filter(user_id=leaving.pk).exists()
    assert not Event.objects.filter(user_id=leaving.pk).exists()
    kept = Order.objects.filter(user__isnull=True).get()
    assert kept.phone != "13800138000" and kept.recipient_name != "张三"
