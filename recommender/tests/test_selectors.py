"""Where shoppers see recommendations: stock, already bought, duplicates, opt-out, query counts."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from recommender import selectors
from recommender.models import BoughtTogetherRule, Experiment, ProductSimilarity
from recommender.services.tracking import recommendation_impressions_record
from recommender.tests.factories import (
    ProductFactory,
    UserFactory,
    active_run,
    member_rows,
    order_paid_for,
    popular_rows,
    profile_for,
    similar_rows,
)
from shop.models import Cart, CartItem, Event

pytestmark = pytest.mark.django_db


def _paid_days_ago(order, days):
    type(order).objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=days))


def _ids(items):
    return [item.product.pk for item in items]


def test_home_serves_the_members_list_with_reasons_and_only_buyable_products():
    # given a member list with an inactive and an out-of-stock product
    member = UserFactory()
    seen = ProductFactory(name="蓝牙耳机")
    good, inactive, sold_out = ProductFactory(), ProductFactory(is_active=False), ProductFactory(stock=0)
    run = active_run()
    member_rows(run, member, [inactive, good, sold_out], reason_product=seen)
    Event.objects.create(user=member, product=seen, kind=Event.Kind.VIEW)  # a named reason must be true

    # when the home block is read
    items = selectors.recommendations_for_home(user=member, n=3)

    # then only the buyable product comes from the list, with a reason naming what was viewed
    assert items[0].product == good and items[0].model == "itemknn" and items[0].block == "home"
    assert "蓝牙耳机" in items[0].reason
    assert inactive.pk not in _ids(items) and sold_out.pk not in _ids(items)


def test_already_bought_products_are_left_out_unless_consumable():
    member = UserFactory()
    durable, consumable, other = ProductFactory(), ProductFactory(is_consumable=True), ProductFactory()
    # bought long enough ago that the consumable is due again (test_repurchase.py: not before)
    _paid_days_ago(order_paid_for(member, [durable, consumable]), 90)
    run = active_run()
    member_rows(run, member, [durable, consumable, other])

    items = selectors.recommendations_for_home(user=member, n=5)

    assert durable.pk not in _ids(items)
    assert consumable.pk in _ids(items) and other.pk in _ids(items)


def test_popular_padding_leaves_out_what_the_member_bought_unless_consumable():
    # given a member whose own list runs out after one product, and a popular list holding a
    # durable product and a consumable they bought, and a product they have not bought
    member = UserFactory()
    own, durable, consumable, other = (
        ProductFactory(),
        ProductFactory(),
        ProductFactory(is_consumable=True),
        ProductFactory(),
    )
    _paid_days_ago(order_paid_for(member, [durable, consumable]), 90)  # the consumable is due again
    run = active_run()
    member_rows(run, member, [own])
    popular_rows(run, [own, durable, consumable, other])

    # when the home block pads the list with popular products
    items = selectors.recommendations_for_home(user=member, n=6)

    # then the bought durable product is not offered again, the consumable is, and nothing twice
    assert _ids(items) == [own.pk, consumable.pk, other.pk]
    assert [item.model for item in items] == ["itemknn", "popular", "popular"]


def test_member_pages_pad_with_popular_products_they_have_not_bought():
    # given a member who bought a best seller, with no list of their own and no similarities
    member = UserFactory()
    bought, other = ProductFactory(), ProductFactory()
    order_paid_for(member, [bought])
    run = active_run()
    popular_rows(run, [bought, other])
    popular_rows(run, [bought, other], segment=f"category:{other.category_id}")

    # when the cart, after-order and similar blocks fall back to popular products
    cart = Cart.objects.create(user=member)
    blocks = [
        selectors.recommendations_for_cart(cart=cart, n=4),
        selectors.recommendations_similar(product=other, n=4, user=member),
        selectors.recommendations_for_member_centre(user=member, n=4),
    ]

    # then none of them offers the bought product again
    assert all(bought.pk not in _ids(items) for items in blocks)


def test_opted_out_members_and_guests_get_the_popular_list():
    member = UserFactory()
    profile_for(member, personalization_enabled=False)
    personal, popular = ProductFactory(), ProductFactory()
    run = active_run()
    member_rows(run, member, [personal])
    popular_rows(run, [popular])

    for who in (member, AnonymousUser()):
        items = selectors.recommendations_for_home(user=who, n=4)
        assert _ids(items) == [popular.pk]
        assert items[0].model == "popular"


def test_cold_start_members_get_their_profile_segment_first_then_overall_popular():
    from datetime import date

    member = UserFactory()
    profile_for(member, gender="f", birth_date=date(date.today().year - 30, 1, 1))
    segment_pick, overall = ProductFactory(), ProductFactory()
    run = active_run()
    popular_rows(run, [overall])
    popular_rows(run, [segment_pick], segment="profile:25-34:f")

    items = selectors.recommendations_for_home(user=member, n=2)

    assert _ids(items) == [segment_pick.pk, overall.pk]


def test_no_product_twice_on_the_product_page():
    product = ProductFactory()
    shared, similar_only, together_only = ProductFactory(), ProductFactory(), ProductFactory()
    run = active_run()
    similar_rows(run, product, [shared, similar_only, product])
    BoughtTogetherRule.objects.create(
        run=run, antecedent=product, consequent=shared, support=0.1, confidence=0.5, lift=2
    )
    BoughtTogetherRule.objects.create(
        run=run, antecedent=product, consequent=together_only, support=0.1, confidence=0.4, lift=2
    )

    blocks = selectors.recommendations_for_product_page(product=product)

    together, similar = _ids(blocks["bought_together"]), _ids(blocks["similar"])
    assert together == [shared.pk, together_only.pk]
    assert similar == [similar_only.pk]
    assert product.pk not in together + similar


def test_cart_recommendations_complete_the_cart_without_its_own_products():
    member = UserFactory()
    in_cart, goes_with, popular = ProductFactory(name="咖啡机"), ProductFactory(), ProductFactory()
    cart = Cart.objects.create(user=member)
    CartItem.objects.create(cart=cart, product=in_cart, unit_price=in_cart.price)
    run = active_run()
    BoughtTogetherRule.objects.create(
        run=run, antecedent=in_cart, consequent=goes_with, support=0.1, confidence=0.6, lift=3
    )
    popular_rows(run, [in_cart, popular])

    items = selectors.recommendations_for_cart(cart=cart, n=4)

    assert _ids(items) == [goes_with.pk, popular.pk]
    assert "咖啡机" in items[0].reason


def test_after_order_blocks_use_rules_then_the_members_list():
    member = UserFactory()
    bought, rule_pick, listed = ProductFactory(), ProductFactory(), ProductFactory()
    order = order_paid_for(member, [bought])
    run = active_run()
    BoughtTogetherRule.objects.create(
        run=run, antecedent=bought, consequent=rule_pick, support=0.1, confidence=0.6, lift=3
    )
    member_rows(run, member, [bought, listed])

    items = selectors.recommendations_after_order(order=order, n=3)

    assert _ids(items) == [rule_pick.pk, listed.pk]


def test_realtime_rows_come_before_the_nightly_list():
    member = UserFactory()
    nightly, fresh = ProductFactory(), ProductFactory()
    run = active_run()
    member_rows(run, member, [nightly])
    member_rows(run, member, [fresh, nightly], model="realtime", reason="similar_to_recent")

    assert _ids(selectors.recommendations_for_home(user=member, n=3)) == [fresh.pk, nightly.pk]


def test_experiment_arm_decides_which_models_list_a_member_sees():
    run = active_run(parameters={"list_models": ["itemknn", "hybrid"]})
    Experiment.objects.create(name="hybrid-vs-knn", arms=[{"name": "B", "model": "hybrid", "share": 100}])
    member = UserFactory()
    knn_pick, hybrid_pick = ProductFactory(), ProductFactory()
    member_rows(run, member, [knn_pick], model="itemknn")
    member_rows(run, member, [hybrid_pick], model="hybrid")

    items = selectors.recommendations_for_home(user=member, n=1)

    assert _ids(items) == [hybrid_pick.pk] and items[0].arm == "B"


def test_home_block_costs_a_constant_number_of_queries(django_assert_max_num_queries):
    member = UserFactory()
    run = active_run()
    products = ProductFactory.create_batch(24)
    member_rows(run, member, products)
    popular_rows(run, products)
    request = RequestFactory().get("/")
    for n in (4, 20):
        with django_assert_max_num_queries(7):
            items = selectors.recommendations_for_home(user=member, n=n)
            html = render_to_string("recommender/_block.html", {"title": "为你推荐", "items": items}, request)
        assert len(items) == n and html.count("product-card-link") == n
        assert "/recommendations/click/home/itemknn/" in html


def test_impressions_are_one_insert_per_page_and_clicks_redirect(client):
    member = UserFactory()
    run = active_run()
    products = ProductFactory.create_batch(3)
    member_rows(run, member, products)
    items = selectors.recommendations_for_home(user=member, n=3)
    similar = [selectors.Recommendation(products[0], "", "similar", "also_viewed")]

    recommendation_impressions_record(user=member, session_key="", blocks=[items, similar, []])

    impressions = Event.objects.filter(kind=Event.Kind.REC_IMPRESSION).order_by("id")
    assert [e.context["block"] for e in impressions] == ["home", "similar"]
    assert impressions[0].context["products"] == _ids(items)

    client.force_login(member)
    response = client.get(items[0].click_url)
    assert response.status_code == 302
    click = Event.objects.get(kind=Event.Kind.REC_CLICK)
    assert click.product == items[0].product and click.context["block"] == "home"
    assert click.context["model"] == "itemknn"


def test_similar_block_reads_similarity_kinds_in_order():
    product = ProductFactory()
    viewed, content = ProductFactory(), ProductFactory()
    run = active_run()
    similar_rows(run, product, [content], kind=ProductSimilarity.Kind.SIMILAR_CONTENT)
    similar_rows(run, product, [viewed], kind=ProductSimilarity.Kind.ALSO_VIEWED)

    items = selectors.recommendations_similar(product=product, n=4)

    assert _ids(items) == [viewed.pk, content.pk]
    assert items[0].model == "also_viewed"


def test_a_product_without_similarities_gets_best_sellers_of_its_category():
    product = ProductFactory()
    same_category = ProductFactory(category=product.category)
    run = active_run()
    popular_rows(run, [product, same_category], segment=f"category:{product.category_id}")

    items = selectors.recommendations_similar(product=product, n=4)

    assert _ids(items) == [same_category.pk] and items[0].model == "popular"
