"""Recommendation blocks on the storefront pages, and the near-real-time refresh after events."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recommender.models import MemberRecommendation
from recommender.services.realtime import member_recommendations_refresh
from recommender.tests.factories import (
    ProductFactory,
    UserFactory,
    active_run,
    member_rows,
    model_artifact,
    order_paid_for,
    popular_rows,
    similar_rows,
)
from shop.models import Event
from shop.services.events import event_record

pytestmark = pytest.mark.django_db


def _home_block(client):
    """The HTML of the home page's recommendation slot only (other sections list products too)."""
    html = client.get(reverse("shop:home")).content.decode()
    return html.split('id="rec-home"', 1)[1].split("新品上架", 1)[0]


def _home_queries(client):
    cache.clear()  # measure the uncached path (the home block is cached per member)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("shop:home"))
    assert response.status_code == 200
    return response, len(captured)


def test_home_shows_the_members_list_at_a_constant_query_cost(client):
    # given a member with a list longer than the block
    run = active_run()
    products = ProductFactory.create_batch(30)
    popular_rows(run, products)
    member = UserFactory()
    member_rows(run, member, products[:30])
    client.force_login(member)
    client.get(reverse("shop:home"))  # warm-up: the first request of a session saves it

    response, queries_long = _home_queries(client)
    html = response.content.decode()
    assert "为你推荐" in html and html.count("/recommendations/click/home/itemknn/") == 12
    assert Event.objects.filter(kind=Event.Kind.REC_IMPRESSION, user=member).count() == 2

    # when the list just fills the block, the query count is the same (no query per product)
    MemberRecommendation.objects.filter(run=run, user=member, rank__gt=12).delete()
    _, queries_exact = _home_queries(client)
    assert queries_exact == queries_long
    # and a short list topped up with popular products costs at most three more (popular ids, products, images)
    MemberRecommendation.objects.filter(run=run, user=member, rank__gt=3).delete()
    _, queries_short = _home_queries(client)
    assert queries_short <= queries_long + 3


def test_guest_home_shows_popular_products(client):
    run = active_run()
    popular = ProductFactory(name="爆款保温杯")
    popular_rows(run, [popular])
    html = client.get(reverse("shop:home")).content.decode()
    assert "爆款保温杯" in html and "热门商品" in html


def test_pages_render_without_any_trained_run(client):
    member = UserFactory()
    client.force_login(member)
    product = ProductFactory()
    assert client.get(reverse("shop:home")).status_code == 200
    assert client.get(product.get_absolute_url()).status_code == 200
    assert client.get(reverse("shop:cart")).status_code == 200


def test_product_page_and_member_centre_show_their_blocks(client):
    run = active_run()
    product, similar, listed = (
        ProductFactory(),
        ProductFactory(name="相似的杯子"),
        ProductFactory(name="会员专属"),
    )
    similar_rows(run, product, [similar])
    member = UserFactory()
    member_rows(run, member, [listed])
    client.force_login(member)
    assert "相似的杯子" in client.get(product.get_absolute_url()).content.decode()
    assert "会员专属" in client.get(reverse("members:centre")).content.decode()


def test_a_few_views_refresh_the_members_list_from_similar_products(django_capture_on_commit_callbacks):
    # given an active run whose serving model saw the viewed product with another one (the refresh
    # folds the member's history into that model, not into the similarity tables)
    run = active_run()
    viewed, similar, nightly = ProductFactory(name="跑鞋"), ProductFactory(), ProductFactory()
    model_artifact(run, [[viewed, similar], [viewed, similar], [nightly]])
    member = UserFactory()
    member_rows(run, member, [nightly])

    # when the member views it three times (in-process tasks run on commit)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        for _ in range(3):
            event_record(kind=Event.Kind.VIEW, user=member, product=viewed)
    assert len(queued) == 1  # the first two views only count; the third queues one refresh

    # then a "realtime" list leads with the similar product, explained by the viewed one
    fresh = MemberRecommendation.objects.get(run=run, user=member, model="realtime")
    assert fresh.product == similar and fresh.reason_product == viewed


def test_refresh_leaves_out_bought_products_and_opted_out_members():
    from recommender.tests.factories import profile_for

    run = active_run()
    seed, bought, other = ProductFactory(), ProductFactory(), ProductFactory()
    model_artifact(run, [[seed, bought, other], [seed, bought, other]])
    member = UserFactory()
    order_paid_for(member, [bought])
    Event.objects.create(user=member, product=seed, kind=Event.Kind.CART_ADD)

    assert member_recommendations_refresh(user_id=member.pk) == 1
    assert MemberRecommendation.objects.get(user=member, model="realtime").product == other

    profile_for(member, personalization_enabled=False)
    MemberRecommendation.objects.filter(user=member).delete()
    assert member_recommendations_refresh(user_id=member.pk) == 0


def test_event_is_kept_when_the_broker_is_down(monkeypatch):
    from recommender import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.refresh_member, "delay", broker_down)
    member, product = UserFactory(), ProductFactory()
    event = event_record(kind=Event.Kind.PURCHASE, user=member, product=product)
    assert event is not None and Event.objects.filter(pk=event.pk).exists()


def test_pages_still_render_recommendations_when_redis_is_down(
    client, settings, django_capture_on_commit_callbacks
):
    # given the cache pointing at a Redis that is not there
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    run = active_run()
    product = ProductFactory(name="库存充足")
    popular_rows(run, [product])
    member = UserFactory()
    client.force_login(member)

    # when the member adds to cart and opens the home page
    with django_capture_on_commit_callbacks(execute=True):
        event_record(kind=Event.Kind.CART_ADD, user=member, product=product)
    response = client.get(reverse("shop:home"))

    # then the event is stored and the page shows recommendations from the database
    assert Event.objects.filter(user=member, kind=Event.Kind.CART_ADD).exists()
    assert response.status_code == 200 and "库存充足" in response.content.decode()


def test_cached_home_block_follows_a_refresh_and_the_privacy_switch(
    client, django_capture_on_commit_callbacks
):
    from recommender.tests.factories import profile_for

    # given a member whose home block is cached
    run = active_run()
    nightly, viewed, similar, popular = (
        ProductFactory(name="夜间推荐"),
        ProductFactory(),
        ProductFactory(name="刚刚相似"),
        ProductFactory(name="大众热门"),
    )
    model_artifact(run, [[viewed, similar], [viewed, similar]])
    popular_rows(run, [popular])
    member = UserFactory()
    member_rows(run, member, [nightly])
    client.force_login(member)
    assert "夜间推荐" in _home_block(client)

    # when a cart add refreshes the list, the next page shows it (cache version bumped)
    with django_capture_on_commit_callbacks(execute=True):
        event_record(kind=Event.Kind.CART_ADD, user=member, product=viewed)
    assert "刚刚相似" in _home_block(client)
    assert Event.objects.filter(kind=Event.Kind.REC_IMPRESSION, user=member).count() == 2

    # and turning personalisation off shows popular products at once
    profile_for(member, personalization_enabled=False)
    block = _home_block(client)
    assert "大众热门" in block and "刚刚相似" not in block


MEMBER_PAGE_QUERY_BUDGET = 12


@pytest.fixture
def member_storefront():
    """A member with a personalised list, favourites, a cart, orders, and a catalogue of 30 products."""
    from decimal import Decimal

    import factory

    from members.models import Favourite, Profile
    from recommender.tests.factories import CategoryFactory
    from shop.models import Cart, CartItem, ProductImage

    run = active_run()
    category = CategoryFactory(name="杯具", slug="cups")
    products = ProductFactory.create_batch(
        30, category=category, name=factory.Sequence(lambda n: f"保温杯{n}号")
    )
    ProductImage.objects.bulk_create(
        ProductImage(product=p, image="products/x.jpg", position=i) for p in products for i in range(2)
    )
    popular_rows(run, products)
    similar_rows(run, products[0], products[1:20])
    member = UserFactory()
    Profile.objects.get_or_create(user=member)
    member_rows(run, member, products[5:30])
    Favourite.objects.bulk_create(Favourite(user=member, product=p) for p in products[:10])
    for i in range(3):
        order_paid_for(member, [products[20 + i]], number=f"Q{i:09d}")
    cart = Cart.objects.create(user=member)
    CartItem.objects.create(cart=cart, product=products[1], quantity=1, unit_price=Decimal("19.90"))
    return {"member": member, "products": products, "category": category}


def _member_page_urls(storefront):
    product = storefront["products"][0]
    return [
        reverse("shop:home"),
        storefront["category"].get_absolute_url(),
        product.get_absolute_url(),
        reverse("shop:search") + "?q=保温杯",
        reverse("shop:cart"),
        reverse("shop:order_list"),
    ]


@pytest.mark.parametrize("warm", [False, True], ids=["cold-cache", "warm-cache"])
def test_member_pages_stay_within_query_budget(client, member_storefront, warm):
    # given a signed-in member with personalised recommendations, favourites, a cart and orders
    client.force_login(member_storefront["member"])
    client.get(reverse("shop:home"))  # the first request of a session saves it
    for url in _member_page_urls(member_storefront):
        if warm:
            client.get(url)
        else:
            cache.clear()
        # when the page is rendered, then it runs at most 12 queries
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, url
        assert len(captured) <= MEMBER_PAGE_QUERY_BUDGET, f"{url}: {len(captured)} queries\n" + "\n".join(
            q["sql"][:200] for q in captured
        )
