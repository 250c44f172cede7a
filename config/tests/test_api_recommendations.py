"""Recommendations API: the member's list with reasons, the opt-out, similar and bought together."""

import pytest

from recommender.models import BoughtTogetherRule, ProductSimilarity
from recommender.tests.factories import active_run, member_rows, popular_rows, similar_rows
from shop.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def run(catalogue, member):
    run = active_run()
    popular_rows(run, [catalogue["pan"]])
    member_rows(run, member, [catalogue["phone"]])
    return run


def slugs(response):
    return [item["product"]["slug"] for item in response.json()["items"]]


def test_for_me_serves_the_members_list_with_reasons_and_records_the_impression(api, member, run):
    response = api.get("/api/v1/recommendations/for-me/", {"n": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["personalised"] is True and body["block"] == "home"
    assert slugs(response) == ["x1"]
    assert body["items"][0]["reason"] and body["items"][0]["model"] == "itemknn"
    assert Event.objects.filter(user=member, kind=Event.Kind.REC_IMPRESSION).count() == 1


def test_for_me_respects_the_opt_out(api, run):
    api.put("/api/v1/me/personalisation/", {"enabled": False}, format="json")
    response = api.get("/api/v1/recommendations/for-me/", {"n": 1})
    assert response.json()["personalised"] is False
    assert slugs(response) == ["pan"]  # the popular list, not the member's own


def test_guests_get_the_popular_list(anon, run):
    response = anon.get("/api/v1/recommendations/for-me/", {"n": 1})
    assert response.json()["personalised"] is False and slugs(response) == ["pan"]


def test_similar_and_bought_together_have_reasons(anon, catalogue, run):
    similar_rows(
        run,
        catalogue["phone"],
        [catalogue["android_phone"], catalogue["pan"]],
        kind=ProductSimilarity.Kind.SIMILAR_CONTENT,
    )
    BoughtTogetherRule.objects.create(
        run=run,
        antecedent=catalogue["phone"],
        consequent=catalogue["pan"],
        support=0.1,
        confidence=0.5,
        lift=2.0,
    )
    similar = anon.get("/api/v1/recommendations/similar/x1/")
    assert similar.status_code == 200 and "pan" in slugs(similar)
    assert all(item["reason"] for item in similar.json()["items"])
    together = anon.get("/api/v1/recommendations/bought-together/x1/")
    assert slugs(together) == ["pan"] and together.json()["items"][0]["reason"]
    assert anon.get("/api/v1/recommendations/similar/nope/").status_code == 404


def test_n_is_bounded(anon, run):
    assert anon.get("/api/v1/recommendations/for-me/", {"n": 1000}).status_code == 400
