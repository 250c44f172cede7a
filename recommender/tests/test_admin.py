"""Staff dashboard pages load for staff, retrain-now enqueues, A/B results with Wilson intervals."""

import pytest
from django.urls import reverse

from recommender.algorithms.stats import wilson_interval
from recommender.experiments import arm_for
from recommender.models import Experiment, TrainingRun
from recommender.stats import experiment_results
from recommender.tests.factories import ProductFactory, UserFactory, active_run, behaviour_seed, member_rows
from shop.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def test_dashboard_run_list_run_detail_and_why_pages_load_for_staff(staff_client):
    run = active_run(
        metrics={"itemknn": {"precision@10": 0.12, "recall@10": 0.3}},
        timings={"load": 0.1, "fit": 0.5},
        gate_reason="first run",
    )
    member = UserFactory(email="why@example.com")
    member_rows(run, member, ProductFactory.create_batch(3))
    Event.objects.create(
        kind=Event.Kind.REC_IMPRESSION,
        context={"block": "home", "model": "itemknn", "models": ["itemknn"] * 4, "products": []},
    )
    Event.objects.create(kind=Event.Kind.REC_CLICK, context={"block": "home", "model": "itemknn"})
    Experiment.objects.create(
        name="knn-vs-hybrid",
        arms=[{"name": "A", "model": "itemknn", "share": 50}, {"name": "B", "model": "hybrid", "share": 50}],
    )

    pages = [
        reverse("admin:recommender_trainingrun_changelist"),
        reverse("admin:recommender_trainingrun_change", args=[run.pk]),
        reverse("admin:recommender_dashboard"),
        reverse("admin:recommender_why") + "?member=why@example.com",
        reverse("admin:recommender_experiment_changelist"),
        reverse("admin:recommender_experiment_change", args=[Experiment.objects.get().pk]),
    ]
    for url in pages:
        response = staff_client.get(url)
        assert response.status_code == 200, url
    dashboard = staff_client.get(reverse("admin:recommender_dashboard")).content.decode()
    assert "rec-chart-bar" in dashboard and "style=" not in dashboard.split("<body")[1].split("</body>")[0]
    why = staff_client.get(reverse("admin:recommender_why") + "?member=why@example.com").content.decode()
    assert "商品" in why and "itemknn" in why
    missing = staff_client.get(reverse("admin:recommender_why") + "?member=nobody@example.com")
    assert "找不到该会员" in missing.content.decode()


def test_dashboard_is_for_staff_only(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:recommender_dashboard"))
    assert response.status_code == 302


def test_retrain_now_runs_a_training(staff_client):
    behaviour_seed(members=12)
    response = staff_client.post(reverse("admin:recommender_retrain"))
    assert response.status_code == 302
    # without REDIS_URL tasks run in-process: the run is already active
    assert TrainingRun.objects.filter(is_active=True, trigger="staff").exists()


def test_experiment_arms_are_stable_and_results_have_wilson_intervals():
    experiment = Experiment.objects.create(
        name="exp",
        arms=[{"name": "A", "model": "itemknn", "share": 50}, {"name": "B", "model": "hybrid", "share": 50}],
    )
    arms = {arm_for(experiment, user_id).name for user_id in range(1, 200)}
    assert arms == {"A", "B"}
    assert all(arm_for(experiment, 7) == arm_for(experiment, 7) for _ in range(3))

    member, product = UserFactory(), ProductFactory()
    arm = arm_for(experiment, member.pk).name
    Event.objects.create(
        user=member,
        kind=Event.Kind.REC_IMPRESSION,
        context={"block": "home", "models": ["itemknn"] * 10, "arm": arm, "experiment": "exp"},
    )
    Event.objects.create(
        user=member,
        product=product,
        kind=Event.Kind.REC_CLICK,
        context={"block": "home", "model": "itemknn", "arm": arm, "experiment": "exp"},
    )
    Event.objects.create(user=member, product=product, kind=Event.Kind.PURCHASE)

    results = {r["name"]: r for r in experiment_results(experiment)}
    assert results[arm]["ctr"]["clicks"] == 1 and results[arm]["ctr"]["impressions"] == 10
    assert results[arm]["conversion"]["clicks"] == 1 and results[arm]["conversion"]["rate"] == 1.0
    low, high = wilson_interval(1, 10)
    assert results[arm]["ctr"]["per_impression"]["low"] == pytest.approx(low) and 0 < low < 0.1 < high < 0.5


def test_experiment_form_refuses_unknown_models(staff_client):
    response = staff_client.post(
        reverse("admin:recommender_experiment_add"),
        {
            "name": "bad",
            "arms": '[{"name": "A", "model": "magic", "share": 50}, '
            '{"name": "B", "model": "itemknn", "share": 50}]',
            "is_running": "on",
        },
    )
    assert response.status_code == 200 and "未知模型" in response.content.decode()
    assert not Experiment.objects.exists()
