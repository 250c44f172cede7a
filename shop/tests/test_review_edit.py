"""A member who reviewed a product sees their review in the form, titled 修改评价, and saving edits it."""

import re

import pytest
from django.urls import reverse

from shop.models import Review
from shop.services.reviews import review_submit
from shop.tests.factories import ProductFactory, UserFactory, bought

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_a_first_review_is_written_with_an_empty_form(client, buyer):
    product = ProductFactory()
    bought(buyer, product)

    html = client.get(product.get_absolute_url()).content.decode()

    assert "写评价" in html and "修改评价" not in html and "提交评价" in html


def test_the_form_shows_the_current_review_and_says_it_is_an_edit(client, buyer):
    product = ProductFactory()
    bought(buyer, product)
    review_submit(user=buyer, product=product, rating=2, title="一般般", body="声音有点小")

    html = client.get(product.get_absolute_url()).content.decode()

    assert "修改评价" in html and "保存修改" in html and "下面是你当前的评价" in html
    assert re.search(r'<input type="radio" name="rating" value="2"[^>]*checked', html)
    assert 'value="一般般"' in html and "声音有点小</textarea>" in html


def test_saving_the_edit_replaces_the_review_and_says_so(client, buyer):
    product = ProductFactory()
    bought(buyer, product)
    review_submit(user=buyer, product=product, rating=2, title="一般般")

    response = client.post(
        reverse("shop:review_create", args=[product.slug]), {"rating": 5, "title": "用久了很好"}, follow=True
    )

    assert "你的评价已修改。" in response.content.decode()
    review = Review.objects.get(user=buyer, product=product)
    assert (review.rating, review.title) == (5, "用久了很好")
