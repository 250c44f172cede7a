"""The served list, one path (issue 11): true reasons, variety, segments without leaks, the refresh as a
fold-in of the serving model, guest sessions, and "不感兴趣"."""

import logging
from datetime import date

import pandas as pd
import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from members.models import User
from recommender import engine, selectors
from recommender.algorithms.diversity import max_category_share
from recommender.models import MemberRecommendation, PopularProduct
from recommender.services.frames import interactions_frame, items_frame
from recommender.services.realtime import member_recommendations_refresh
from recommender.services.training.tables import popular_write
from recommender.serving import ACTION_ORDER, variety_rerank
from recommender.tests.factories import (
    CategoryFactory,
    ProductFactory,
    UserFactory,
    active_run,
    member_rows,
    model_artifact,
    order_paid_for,
    profile_for,
)
from shop.models import Event, OrderLine
from shop.services.events import event_record

pytestmark = pytest.mark.django_db

EVENT_OF_ACTION = {
    "viewed": Event.Kind.VIEW,
    "carted": Event.Kind.CART_ADD,
    "favourited": Event.Kind.FAVOURITE,
    "reviewed": Event.Kind.RATING,
}


def _did(user_id, product_id, action) -> bool:
    """What the database says the member did: the check a named reason must pass."""
    if action == "bought":
        return OrderLine.objects.filter(
            order__user_id=user_id, order__paid_at__isnull=False, product_id=product_id
        ).exists()
    return Event.objects.filter(user_id=user_id, product_id=product_id, kind=EVENT_OF_ACTION[action]).exists()


def _ids(items):
    return [item.product.pk for item in items]


# -- 1. true reasons ---------------------------------------------------------------------------------
def test_every_named_reason_on_every_members_home_list_is_true_in_the_seeded_shop():
    from demo.seeding import demo_seed
    from recommender.services import training

    # given the small demo shop, trained by the training service
    demo_seed(size="small")
    run = training.training_run_execute(
        trigger="test", model_names=["popularity", "itemknn", "ease", "rules", "hybrid"]
    )
    assert run.is_active, run.error or run.gate_reason
    # the run measured its served lists on its holdout (variety and the re-rank's cost)
    assert {
        "intra_list_diversity",
        "category_coverage",
        "novelty",
        "long_tail_share",
        "over_cap_share",
        "precision",
        "precision_without_rerank",
        "rerank_cost",
    } <= set(run.served_list), run.served_list

    # then every stored row that names a product names something the member really did with it
    stored = MemberRecommendation.objects.filter(run=run, reason__in=ACTION_ORDER).values_list(
        "user_id", "reason_product_id", "reason"
    )
    assert stored and all(_did(u, p, action) for u, p, action in stored)

    # and every served home list, after a refresh for some members, says only true things
    members = list(User.objects.filter(is_staff=False).order_by("pk"))
    for member in members[:10]:
        member_recommendations_refresh(user_id=member.pk)
    named, lists, over_cap = 0, 0, 0
    for member in members:
        items = selectors.recommendations_for_home(user=member, n=12)
        lists += 1
        categories = pd.Series([item.product.category_id for item in items])
        over_cap += bool(len(categories)) and categories.value_counts().max() > 4
        for item in items:
            if item.reason_code in ACTION_ORDER:
                named += 1
                assert _did(member.pk, item.reason_product_id, item.reason_code), (member.pk, item)
            elif item.reason_code == "history":
                assert Event.objects.filter(user=member, kind=Event.Kind.VIEW).exists()
    assert named > 0
    # and lists keep the variety cap where the catalogue allows
    assert over_cap / lists <= 0.1


def test_a_stored_reason_is_checked_when_read():
    # given a list whose reason names a product, written as "bought"
    member = UserFactory()
    earphones, pick = ProductFactory(name="蓝牙耳机"), ProductFactory()
    run = active_run()
    member_rows(run, member, [pick], reason="bought", reason_product=earphones)

    # when the member only viewed it, the sentence says so (never "bought")
    Event.objects.create(user=member, product=earphones, kind=Event.Kind.VIEW)
    [item] = selectors.recommendations_for_home(user=member, n=1)
    assert item.reason == "因为你浏览了 蓝牙耳机" and item.reason_code == "viewed"

    # when they bought it (a paid order line), "bought" is the strongest
    order_paid_for(member, [earphones])
    [item] = selectors.recommendations_for_home(user=member, n=1)
    assert item.reason == "因为你购买了 蓝牙耳机" and item.reason_code == "bought"

    # when the evidence is gone, the reason is generic and names nothing
    OrderLine.objects.filter(order__user=member).delete()
    Event.objects.filter(user=member).delete()
    [item] = selectors.recommendations_for_home(user=member, n=1)
    assert "蓝牙耳机" not in item.reason and item.reason_product_id is None
    assert item.reason == "猜你喜欢"  # not "根据你的浏览记录": they viewed nothing


def test_bought_together_rules_come_from_order_baskets_not_a_members_whole_history():
    a, b, c, d = (ProductFactory() for _ in range(4))
    shoppers = [UserFactory() for _ in range(3)]
    for shopper in shoppers:
        # views of a and b, never bought together; orders of {c, d}
        Event.objects.bulk_create(
            [
                Event(user=shopper, product=a, kind=Event.Kind.VIEW),
                Event(user=shopper, product=b, kind=Event.Kind.VIEW),
            ]
        )
        order_paid_for(shopper, [c, d])

    rules = engine.AssociationRules(min_count=2).fit(interactions_frame()).rules_
    pairs = set(zip(rules["antecedent"], rules["consequent"]))
    assert pairs == {(c.pk, d.pk), (d.pk, c.pk)}


# -- 2. variety --------------------------------------------------------------------------------------
def test_the_variety_rerank_caps_every_block_of_twelve():
    shoes = 900
    recs = pd.DataFrame({"user_id": 1, "item_id": range(60), "score": [100.0 - i for i in range(60)]})
    category = {i: shoes if i < 30 else i % 6 for i in range(60)}

    ranked = variety_rerank(recs, category, length=30, cap=4)

    assert list(ranked["rank"]) == list(range(1, 31))
    for start in (0, 12):
        block = ranked.iloc[start : start + 12]
        assert max_category_share(block, category).max() <= 4
    assert list(ranked["item_id"][:4]) == [0, 1, 2, 3]  # the best items stay first


def test_the_served_home_list_keeps_the_cap_after_read_time_filters():
    # given a stored list whose first twelve are socks, then twelve of other categories (some sold out)
    member = UserFactory()
    socks = CategoryFactory(name="袜子")
    sock_products = [ProductFactory(category=socks) for _ in range(12)]
    others = [ProductFactory(stock=0 if i % 3 == 0 else 10) for i in range(12)]
    run = active_run()
    member_rows(run, member, sock_products + others)

    items = selectors.recommendations_for_home(user=member, n=12)

    assert len(items) == 12
    assert sum(item.product.category_id == socks.pk for item in items) <= 4
    assert all(item.product.stock > 0 for item in items)


# -- 3. cold start without leaks --------------------------------------------------------------------
def _thirty_years_old():
    return date(date.today().year - 30, 1, 1)


def test_a_segment_of_one_member_is_never_shown_as_a_segment_list():
    # given one member in the segment (female, 25-34) who bought a rare product, and others without a profile
    loner = UserFactory()
    profile_for(loner, gender="f", birth_date=_thirty_years_old())
    rare, common = ProductFactory(name="私人定制"), ProductFactory(name="大众款")
    order_paid_for(loner, [rare])
    for _ in range(3):
        order_paid_for(UserFactory(), [common])
    run = active_run()
    popular_write(run.pk, interactions_frame(), items_frame())

    # then no profile segment list was written at any level
    assert not PopularProduct.objects.filter(run=run, segment__startswith="profile:").exists()

    # and a new member with that profile gets no segment list (no "members like you")
    newcomer = UserFactory()
    profile_for(newcomer, gender="f", birth_date=_thirty_years_old())
    items = selectors.recommendations_for_home(user=newcomer, n=4)
    assert all(item.reason == "热门商品" for item in items)


def test_a_segment_list_needs_twenty_members_and_says_which_group_it_is(settings):
    settings.RECOMMENDER_SEGMENT_MIN_MEMBERS = 20
    # given 20 members aged 25-34 of both genders (10 women), who all bought the same product
    favourite = ProductFactory(name="同龄爆款")
    for i in range(20):
        member = UserFactory()
        profile_for(member, gender="f" if i < 10 else "m", birth_date=_thirty_years_old())
        order_paid_for(member, [favourite])
    run = active_run()
    popular_write(run.pk, interactions_frame(), items_frame())

    # then the age band list exists; the age band x gender lists (10 each) and gender lists do not
    segments = set(
        PopularProduct.objects.filter(run=run, segment__startswith="profile:").values_list(
            "segment", flat=True
        )
    )
    assert segments == {"profile:25-34:"}

    # and a new woman of that age gets it, said as what it is
    newcomer = UserFactory()
    profile_for(newcomer, gender="f", birth_date=_thirty_years_old())
    [item] = selectors.recommendations_for_home(user=newcomer, n=1)
    assert item.product == favourite and item.reason == "同年龄段会员喜欢"


# -- 4. the refresh is the serving model folded in -----------------------------------------------------
def test_the_refresh_folds_the_history_into_the_serving_model_with_the_nightly_rules():
    # given a run whose model saw running shoes with socks and a shirt, and a member who viewed the
    # shoes, bought the socks and marked the shirt "不感兴趣"
    run = active_run()
    shoes, socks, shirt, cap = (ProductFactory(name=n) for n in ("跑鞋", "运动袜", "T恤", "帽子"))
    model_artifact(run, [[shoes, socks, shirt, cap]] * 3)
    member = UserFactory()
    Event.objects.create(user=member, product=shoes, kind=Event.Kind.VIEW)
    order_paid_for(member, [socks])
    Event.objects.create(user=member, product=shirt, kind=Event.Kind.NOT_INTERESTED)

    # when the list is refreshed
    written = member_recommendations_refresh(user_id=member.pk)

    # then the model's next item is stored, nothing seen, bought or hidden, with a true reason
    rows = list(MemberRecommendation.objects.filter(run=run, user=member, model="realtime"))
    assert written == 1 and [r.product for r in rows] == [cap]
    assert rows[0].reason in ("viewed", "bought") and _did(
        member.pk, rows[0].reason_product_id, rows[0].reason
    )
    [item] = selectors.recommendations_for_home(user=member, n=1)
    assert item.product == cap and item.model == "realtime"


def test_the_refresh_handles_bad_input_with_a_log_line_and_never_raises(caplog):
    run = active_run()
    known, other, inactive = ProductFactory(), ProductFactory(), ProductFactory()
    member = UserFactory()
    caplog.set_level(logging.INFO, logger="recommender")

    # no artifact for the run: nothing written, a log line
    Event.objects.create(user=member, product=known, kind=Event.Kind.VIEW)
    assert member_recommendations_refresh(user_id=member.pk) == 0
    assert "no model artifact" in caplog.text

    # an artifact from older code (a model without the fold-in)
    engine.artifact_save(run.pk, {"models": {"itemknn": object()}, "item_category": {}})
    from recommender.serving import fitted_models_forget

    fitted_models_forget()
    assert member_recommendations_refresh(user_id=member.pk) == 0
    assert "older code" in caplog.text

    # a member with no history, and one whose products are all new since the run (unknown to the model)
    model_artifact(run, [[known, other, inactive]] * 2)
    assert member_recommendations_refresh(user_id=UserFactory().pk) == 0
    newcomer_product = ProductFactory()
    stranger = UserFactory()
    Event.objects.create(user=stranger, product=newcomer_product, kind=Event.Kind.CART_ADD)
    assert member_recommendations_refresh(user_id=stranger.pk) == 0
    assert "known to run" in caplog.text

    # events for an inactive product and a deleted one: a sensible list without them
    inactive.is_active = False
    inactive.save()
    gone = ProductFactory()
    Event.objects.create(user=member, product=gone, kind=Event.Kind.VIEW)
    gone.delete()
    assert member_recommendations_refresh(user_id=member.pk) == 1
    assert list(
        MemberRecommendation.objects.filter(user=member, model="realtime").values_list(
            "product_id", flat=True
        )
    ) == [other.pk]


# -- guests: the same fold-in over the session's history -------------------------------------------------
def test_a_guest_session_gets_the_fold_in_and_a_single_unknown_event_gets_popular(caplog):
    run = active_run()
    shoes, socks, best_seller = ProductFactory(name="跑鞋"), ProductFactory(name="运动袜"), ProductFactory()
    model_artifact(run, [[shoes, socks]] * 3)
    from recommender.tests.factories import popular_rows

    popular_rows(run, [best_seller])
    caplog.set_level(logging.INFO, logger="recommender")

    # a guest who viewed the shoes in this session
    event_record(kind=Event.Kind.VIEW, session_key="guest-1", product=shoes)
    items = selectors.recommendations_for_home(user=AnonymousUser(), session_key="guest-1", n=2)
    assert _ids(items) == [socks.pk, best_seller.pk]
    assert items[0].model == "realtime" and items[0].reason == "因为你浏览了 跑鞋"

    # a guest whose one event is a product the model does not know: popular, a log line, no error
    event_record(kind=Event.Kind.VIEW, session_key="guest-2", product=ProductFactory())
    items = selectors.recommendations_for_home(user=AnonymousUser(), session_key="guest-2", n=2)
    assert _ids(items) == [best_seller.pk] and items[0].reason == "热门商品"
    assert "popular list" in caplog.text

    # a guest with no events shares the popular list
    assert _ids(selectors.recommendations_for_home(user=AnonymousUser(), session_key="", n=2)) == [
        best_seller.pk
    ]


def test_members_who_turned_personalisation_off_get_no_fold_in():
    run = active_run()
    shoes, socks, best_seller = ProductFactory(), ProductFactory(), ProductFactory()
    model_artifact(run, [[shoes, socks]] * 3)
    from recommender.tests.factories import popular_rows

    popular_rows(run, [best_seller])
    member = UserFactory()
    profile_for(member, personalization_enabled=False)
    Event.objects.create(user=member, product=shoes, kind=Event.Kind.CART_ADD)

    assert member_recommendations_refresh(user_id=member.pk) == 0
    assert _ids(selectors.recommendations_for_home(user=member, n=3)) == [best_seller.pk]


# -- 5. 不感兴趣 -----------------------------------------------------------------------------------------
def test_not_interested_hides_the_product_at_once_without_javascript(client):
    # given a member whose home block shows two products
    run = active_run()
    boring, kept = ProductFactory(name="无聊商品"), ProductFactory(name="留下的商品")
    member = UserFactory()
    member_rows(run, member, [boring, kept])
    client.force_login(member)
    html = client.get(reverse("shop:home")).content.decode()
    url = reverse("recommender:not_interested", args=[boring.pk])
    assert url in html and "不感兴趣" in html and "__recommender_csrf__" not in html

    # when they post the card's form (a plain POST, CSRF checked)
    client.handler.enforce_csrf_checks = True
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post(url, {"csrfmiddlewaretoken": token, "block": "home", "next": "/"})

    # then they are sent back, the event is stored, and the cached block no longer shows it
    assert response.status_code == 302 and response["Location"] == "/"
    assert Event.objects.filter(user=member, product=boring, kind=Event.Kind.NOT_INTERESTED).count() == 1
    block = client.get(reverse("shop:home")).content.decode().split('id="rec-home"', 1)[1]
    assert "无聊商品" not in block.split("新品上架", 1)[0] and "留下的商品" in block


def test_not_interested_answers_scripts_with_json_and_works_for_guests(client):
    run = active_run()
    boring, kept = ProductFactory(), ProductFactory()
    from recommender.tests.factories import popular_rows

    popular_rows(run, [boring, kept])
    client.get(reverse("shop:home"))
    response = client.post(
        reverse("recommender:not_interested", args=[boring.pk]),
        {"block": "home"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and response.json() == {"hidden": boring.pk}
    session_key = Event.objects.get(kind=Event.Kind.NOT_INTERESTED).session_key
    assert session_key
    items = selectors.recommendations_for_home(user=AnonymousUser(), session_key=session_key, n=2)
    assert _ids(items) == [kept.pk]
    # only a POST changes anything
    assert client.get(reverse("recommender:not_interested", args=[boring.pk])).status_code == 405


def test_served_list_figures_measure_variety_and_what_the_rerank_costs():
    from recommender.algorithms.evaluation import random_split
    from recommender.services.training.variety import served_list_figures
    from recommender.tests.factories import behaviour_seed

    behaviour_seed(members=30, products=24)
    interactions, items = interactions_frame(), items_frame()
    train, test = random_split(interactions, test_size=0.2, random_state=42)
    model = engine.model_build("itemknn").fit(train, items=items)

    figures = served_list_figures(model=model, train=train, test=test, items=items)

    assert "error" not in figures, figures
    for key in (
        "intra_list_diversity",
        "category_coverage",
        "novelty",
        "long_tail_share",
        "over_cap_share",
        "precision",
        "precision_without_rerank",
        "rerank_cost",
    ):
        assert key in figures
    assert figures["k"] == 10
    assert figures["rerank_cost"] == pytest.approx(figures["precision_without_rerank"] - figures["precision"])
    assert figures["over_cap_share"] <= figures["over_cap_share_without_rerank"]


def test_the_dashboard_shows_the_served_lists_figures(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    active_run(
        metrics={
            "itemknn": {
                "precision@10": 0.1,
                "served_list": {
                    "lists": 90,
                    "cap": 4,
                    "block": 12,
                    "intra_list_diversity": 0.8123,
                    "category_coverage": 0.5,
                    "novelty": 7.25,
                    "long_tail_share": 0.3,
                    "over_cap_share": 0.02,
                    "over_cap_share_without_rerank": 0.88,
                    "precision": 0.11,
                    "precision_without_rerank": 0.115,
                    "rerank_cost": 0.005,
                },
            }
        }
    )

    html = client.get(reverse("admin:recommender_dashboard")).content.decode()

    assert "列表内多样性" in html and "0.812" in html and "0.880 → 0.020" in html and "0.0050" in html


def test_a_guest_who_views_a_product_sees_the_fold_in_on_the_home_page(client):
    run = active_run()
    shoes, socks, best_seller = (
        ProductFactory(name="跑鞋"),
        ProductFactory(name="运动袜"),
        ProductFactory(name="爆款"),
    )
    model_artifact(run, [[shoes, socks]] * 3)
    from recommender.tests.factories import popular_rows

    popular_rows(run, [best_seller])
    home = client.get(reverse("shop:home")).content.decode().split('id="rec-home"', 1)[1]
    assert "爆款" in home and "运动袜" not in home.split("新品上架", 1)[0]

    client.get(shoes.get_absolute_url())  # a guest's view, recorded against the session

    block = (
        client.get(reverse("shop:home")).content.decode().split('id="rec-home"', 1)[1].split("新品上架", 1)[0]
    )
    assert "运动袜" in block and "因为你浏览了 跑鞋" in block


def test_not_interested_also_hides_the_product_from_the_product_page_blocks():
    from recommender.models import BoughtTogetherRule
    from recommender.tests.factories import similar_rows

    run = active_run()
    page, boring, kept, rule_pick = ProductFactory(), ProductFactory(), ProductFactory(), ProductFactory()
    similar_rows(run, page, [boring, kept])
    BoughtTogetherRule.objects.create(
        run=run, antecedent=page, consequent=boring, support=0.2, confidence=0.9, lift=2.0
    )
    BoughtTogetherRule.objects.create(
        run=run, antecedent=page, consequent=rule_pick, support=0.1, confidence=0.5, lift=1.5
    )
    member = UserFactory()
    Event.objects.create(user=member, product=boring, kind=Event.Kind.NOT_INTERESTED)

    blocks = selectors.recommendations_for_product_page(product=page, user=member)

    assert boring.pk not in _ids(blocks["similar"]) + _ids(blocks["bought_together"])
    assert kept.pk in _ids(blocks["similar"]) and rule_pick.pk in _ids(blocks["bought_together"])


def test_one_list_is_reranked_exactly_as_the_nightly_tables_rerank_many():
    import numpy as np

    rng = np.random.default_rng(3)
    for trial in range(30):
        size = int(rng.integers(1, 70))
        recs = pd.DataFrame(
            {"user_id": 7, "item_id": rng.permutation(500)[:size], "score": rng.random(size).round(2)}
        )  # ties in score keep row order
        category = {int(i): int(rng.integers(0, 6)) for i in recs["item_id"] if rng.random() > 0.1}
        one = variety_rerank(recs, category, length=30, cap=4)
        many = variety_rerank(
            pd.concat([recs, recs.assign(user_id=8)], ignore_index=True), category, length=30, cap=4
        )
        assert list(one["item_id"]) == list(many[many["user_id"] == 7]["item_id"]), trial
        assert list(one["rank"]) == list(range(1, len(one) + 1))
