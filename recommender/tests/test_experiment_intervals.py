"""A/B intervals per member: one member who clicks a lot widens the interval, as it should."""

import pytest

from recommender.experiments import arm_for
from recommender.models import Experiment
from recommender.stats import experiment_results
from recommender.tests.factories import ProductFactory, UserFactory
from shop.models import Event

pytestmark = pytest.mark.django_db


def test_click_through_interval_is_per_member_and_wider_than_per_impression_when_one_member_clicks_a_lot():
    # given one arm of 40 members with 20 impressions each: one member clicks 15 times, the others once
    experiment = Experiment.objects.create(name="exp", arms=[{"name": "A", "model": "itemknn", "share": 100}])
    product = ProductFactory()
    members = [UserFactory() for _ in range(40)]
    events = []
    for index, member in enumerate(members):
        arm = arm_for(experiment, member.pk).name
        context = {"block": "home", "arm": arm, "experiment": "exp"}
        events.append(
            Event(
                user=member, kind=Event.Kind.REC_IMPRESSION, context={**context, "models": ["itemknn"] * 20}
            )
        )
        events.extend(
            Event(
                user=member,
                product=product,
                kind=Event.Kind.REC_CLICK,
                context={**context, "model": "itemknn"},
            )
            for _ in range(15 if index == 0 else 1)
        )
    Event.objects.bulk_create(events)

    # when the arm's results are computed
    ctr = experiment_results(experiment)[0]["ctr"]

    # then the rate is clicks / impressions, and its interval (per member) is wider than the per-impression one
    assert ctr["clicks"] == 54 and ctr["impressions"] == 800 and ctr["rate"] == pytest.approx(54 / 800)
    assert ctr["interval"] == "member" and ctr["members"] == 40
    per_member = ctr["high"] - ctr["low"]
    per_impression = ctr["per_impression"]["high"] - ctr["per_impression"]["low"]
    assert per_member > 1.3 * per_impression
    assert ctr["low"] < ctr["rate"] < ctr["high"]
