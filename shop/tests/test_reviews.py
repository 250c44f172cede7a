"""Reviews: buyers only, one per member and product (a second edits), averages, moderation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import DomainError
from shop.models import Event, Order, Review
from shop.services.reviews import review_approve, review_reject, review_submit
from shop.tests.factories import ProductFactory, UserFactory, bought

pytestmark = pytest.mark.django_db


def test_only_buyers_can_review():
    user, product = UserFactory(), ProductFactory()
    with pytest.raises(DomainError, match="购买过"):
        review_submit(user=user, product=product, rating=5)
    bought(user, product, status=Order.Status.PENDING_PAYMENT)
    with pytest.raises(DomainError):
        review_submit(user=user, product=product, rating=5)


def test_review_updates_average_and_count_and_records_rating():
    product = ProductFactory()
    for stars in (5, 4):
        user = UserFactory()
        bought(user, product)
        review_submit(user=user, product=product, rating=stars, body="不错")
    product.refresh_from_db()
    assert product.rating_count == 2 and product.rating_avg == Decimal("4.50")
    assert Event.objects.filter(kind=Event.Kind.RATING, product=product).count() == 2


def test_second_review_edits_the_first():
    user, product = UserFactory(), ProductFactory()
    bought(user, product)
    review_submit(user=user, product=product, rating=2)
    review_submit(user=user, product=product, rating=4, body="用久了觉得还行")
    review = Review.objects.get()
    assert review.rating == 4 and review.body == "用久了觉得还行"
    product.refresh_from_db()
    assert product.rating_avg == Decimal("4.00") and product.rating_count == 1


@pytest.mark.parametrize("rating", [0, 6, "x", None])
def test_invalid_rating_is_refused(rating):
    user, product = UserFactory(), ProductFactory()
    bought(user, product)
    with pytest.raises(DomainError):
        review_submit(user=user, product=product, rating=rating)
    assert not Review.objects.exists()


def test_moderation_recomputes_averages(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "members.services.checkout_hooks.review_approved", lambda *, review: calls.append(review.pk)
    )
    product = ProductFactory()
    reviews = []
    for stars in (5, 1):
        user = UserFactory()
        bought(user, product)
        reviews.append(review_submit(user=user, product=product, rating=stars))
    review_reject(review=reviews[1])
    product.refresh_from_db()
    assert product.rating_avg == Decimal("5.00") and product.rating_count == 1
    review_approve(review=reviews[1])
    review_approve(review=reviews[1])  # approving twice awards once
    product.refresh_from_db()
    assert product.rating_avg == Decimal("3.00") and product.rating_count == 2
    # approved on submission (both), then again once after the rejection; the repeat is a no-op
    assert calls == [reviews[0].pk, reviews[1].pk, reviews[1].pk]


def test_review_form_on_product_page(client):
    user, product = UserFactory(), ProductFactory()
    client.force_login(user)
    page = client.get(product.get_absolute_url())
    assert not page.context["can_review"]
    response = client.post(
        reverse("shop:review_create", args=[product.slug]), {"rating": 5, "body": "好"}, follow=True
    )
    assert "购买过该商品的会员才能评价" in response.content.decode()
    bought(user, product)
    assert client.get(product.get_absolute_url()).context["can_review"]
    client.post(reverse("shop:review_create", args=[product.slug]), {"rating": 4, "title": "好用"})
    assert Review.objects.get().rating == 4
    bad = client.post(reverse("shop:review_create", args=[product.slug]), {"rating": "9"}, follow=True)
    assert bad.status_code == 200 and Review.objects.get().rating == 4


def test_guest_review_post_goes_to_login(client):
    product = ProductFactory()
    response = client.post(reverse("shop:review_create", args=[product.slug]), {"rating": 5})
    assert response.status_code == 302 and "/accounts/login/" in response.url
