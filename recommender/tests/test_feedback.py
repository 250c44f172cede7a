"""Feedback as the shop records it: what counts against a product, the fold-in's one table, consumables coming back."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from recommender.services.frames import interactions_frame
from recommender.serving import (
    PAID_LINE,
    REPURCHASE_CACHE_KEY,
    bought_product_ids,
    history_weights,
    member_history_rows,
    repurchase_intervals_refresh,
)
from recommender.tests.factories import CategoryFactory, ProductFactory, UserFactory, order_paid_for
from shop.models import Event, Order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_learned_intervals(settings):
    # a local cache: learned intervals are read back from it, and a loaded Redis may time out (fail soft)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.delete(REPURCHASE_CACHE_KEY)
    yield
    cache.delete(REPURCHASE_CACHE_KEY)


def _event(user, product, kind, value=None, days_ago=0):
    return Event.objects.create(
        user=user,
        product=product,
        kind=kind,
        value=value,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def _paid_days_ago(order, days):
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=days))


def _bought(user, **kw):
    return set(bought_product_ids(user.pk, **kw).values_list("product_id", flat=True))


def test_training_frame_leaves_out_what_was_undone_hidden_or_rated_low():
    # given a member who favourited then unfavourited a, rated b one star, hid c after viewing it,
    # carted and removed d, and rated e five stars
    member = UserFactory()
    a, b, c, d, e = ProductFactory.create_batch(5)
    _event(member, a, Event.Kind.FAVOURITE, days_ago=2)
    _event(member, a, Event.Kind.UNFAVOURITE, days_ago=1)
    _event(member, b, Event.Kind.RATING, 1)
    _event(member, c, Event.Kind.VIEW)
    _event(member, c, Event.Kind.NOT_INTERESTED)
    _event(member, d, Event.Kind.CART_ADD)
    _event(member, d, Event.Kind.CART_REMOVE, 1)
    _event(member, e, Event.Kind.RATING, 5)

    # when the nightly run loads the frame
    frame = interactions_frame()

    # then a, b and c are not learned, d only weakly, e strongly, and no row is negative
    weight = frame.groupby("item_id")["weight"].max()
    assert set(weight.index) == {d.pk, e.pk}
    assert weight[d.pk] == pytest.approx(1.0, abs=0.01) and weight[e.pk] == pytest.approx(5.0, abs=0.01)
    assert (frame["weight"] > 0).all()
    # and timestamps are unix seconds (they were microseconds // 10**9 once: decay saw 56-year-old rows)
    assert abs(frame["timestamp"].max() - timezone.now().timestamp()) < 120
    assert not set(frame["kind"]) & {"unfavourite", "cart_remove", "not_interested"}


def test_fold_in_history_weighs_like_training():
    member = UserFactory()
    a, b, c, d = ProductFactory.create_batch(4)
    order_paid_for(member, [d])
    _event(member, a, Event.Kind.FAVOURITE)
    _event(member, a, Event.Kind.UNFAVOURITE)
    _event(member, b, Event.Kind.RATING, 2)
    _event(member, c, Event.Kind.CART_ADD)
    _event(member, c, Event.Kind.CART_REMOVE, 1)

    history = history_weights(member_history_rows(member.pk))

    assert set(history) == {c.pk, d.pk}
    assert history[c.pk] == pytest.approx(1.0, abs=0.01) and history[d.pk] == pytest.approx(5.0, abs=0.01)


def test_fold_in_history_decays_by_the_one_half_life():
    from recommender.algorithms.feedback import HALF_LIFE_DAYS

    now = timezone.now()
    old = now - timedelta(days=HALF_LIFE_DAYS)
    rows = [(1, Event.Kind.PURCHASE, None, old), (2, PAID_LINE, None, now), (3, Event.Kind.VIEW, None, None)]
    history = history_weights(rows, now=now)
    assert history == pytest.approx({1: 2.5, 2: 5.0, 3: 1.0})


def test_consumable_comes_back_after_the_default_interval_until_learned():
    # given a member who bought a durable and a consumable product
    member = UserFactory()
    durable, consumable = ProductFactory(), ProductFactory(is_consumable=True)
    order = order_paid_for(member, [durable, consumable])

    # then right after the purchase both are excluded; after 31 days (default 30) only the durable one
    assert _bought(member) == {durable.pk, consumable.pk}
    assert _bought(member, now=timezone.now() + timedelta(days=29)) == {durable.pk, consumable.pk}
    assert _bought(member, now=timezone.now() + timedelta(days=31)) == {durable.pk}
    _paid_days_ago(order, 400)
    assert _bought(member) == {durable.pk}


def test_consumable_interval_is_learned_from_repeat_purchases():
    # given three members who each buy toothpaste every 10 days, and shampoo of the same category
    # nobody bought twice
    food = CategoryFactory()
    toothpaste = ProductFactory(is_consumable=True, category=food)
    shampoo = ProductFactory(is_consumable=True, category=food)
    for _ in range(3):
        buyer = UserFactory()
        for days in (25, 15, 5):
            _paid_days_ago(order_paid_for(buyer, [toothpaste]), days)
    member = UserFactory()
    _paid_days_ago(order_paid_for(member, [toothpaste, shampoo]), 0)

    # when the intervals are learned (the nightly run)
    intervals = repurchase_intervals_refresh()

    # then toothpaste is due after 10 days, shampoo takes its category's median, and the exclusion
    # follows them (rounded up to a 14-day step), read from the cache
    assert intervals[toothpaste.pk] == pytest.approx(10.0) and intervals[shampoo.pk] == pytest.approx(10.0)
    assert _bought(member, now=timezone.now() + timedelta(days=13)) == {toothpaste.pk, shampoo.pk}
    assert _bought(member, now=timezone.now() + timedelta(days=15)) == set()


def test_a_later_repurchase_restarts_the_clock():
    member = UserFactory()
    pills = ProductFactory(is_consumable=True)
    _paid_days_ago(order_paid_for(member, [pills]), 60)
    assert _bought(member) == set()
    order_paid_for(member, [pills])
    assert _bought(member) == {pills.pk}
