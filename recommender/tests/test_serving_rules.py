"""One source of truth: event weights, profile segments, model names; experiment rules for every caller."""

from datetime import date

import pytest
from django.urls import reverse

from core.errors import DomainError
from recommender import engine
from recommender.algorithms.cli import MODEL_NAMES
from recommender.algorithms.data import EVENT_WEIGHTS
from recommender.models import Experiment
from recommender.services import experiments, frames, realtime
from recommender.serving import AGE_BANDS, profile_segment
from recommender.tests.factories import UserFactory
from shop.models import Event

pytestmark = pytest.mark.django_db

ARMS = [{"name": "A", "model": "itemknn", "share": 50}, {"name": "B", "model": "hybrid", "share": 50}]


def test_training_frames_and_the_realtime_refresh_weigh_behaviour_by_the_engines_one_table():
    # the values the models were evaluated with: view 1, cart 3, favourite 4, purchase 5
    assert {k: EVENT_WEIGHTS[k] for k in ("view", "cart_add", "favourite", "purchase")} == {
        "view": 1.0,
        "cart_add": 3.0,
        "favourite": 4.0,
        "purchase": 5.0,
    }
    assert all(kind in EVENT_WEIGHTS for kind in frames.TRAINED_KINDS if kind != Event.Kind.RATING)
    assert {kind: EVENT_WEIGHTS[kind] for kind in realtime.SEED_KINDS} == realtime.SEED_WEIGHTS
    assert not hasattr(frames, "EVENT_WEIGHTS") or frames.EVENT_WEIGHTS is EVENT_WEIGHTS


def test_profile_segments_come_from_one_age_band_table():
    today = date(2026, 6, 1)
    assert profile_segment("f", date(2000, 6, 2), today) == "profile:25-34:f"
    assert profile_segment("", date(1990, 1, 1), today) == "profile:35-44:"
    assert profile_segment("m", None, today) == "profile::m"
    assert profile_segment("", None, today) is None
    assert [label for _, _, label in AGE_BANDS] == ["18-24", "25-34", "35-44", "45-54", "55+"]


def test_the_nightly_run_names_models_as_the_algorithms_package_and_evaluate_recommender_do():
    assert set(engine.MODEL_FACTORIES) == set(MODEL_NAMES)


def test_experiment_rules_hold_for_every_caller_not_only_the_admin_form():
    with pytest.raises(DomainError, match="未知模型"):
        experiments.experiment_save(
            experiment=Experiment(
                name="x",
                arms=[
                    {"name": "A", "model": "magic", "share": 1},
                    {"name": "B", "model": "itemknn", "share": 1},
                ],
            )
        )
    with pytest.raises(DomainError, match="至少需要两个分组"):
        experiments.experiment_save(experiment=Experiment(name="x", arms=[ARMS[0]]))
    with pytest.raises(DomainError, match="share 必须是正整数"):
        experiments.experiment_save(experiment=Experiment(name="x", arms=[ARMS[0], {**ARMS[1], "share": 0}]))
    with pytest.raises(DomainError, match="重复"):
        experiments.experiment_save(experiment=Experiment(name="x", arms=[ARMS[0], {**ARMS[1], "name": "A"}]))
    assert not Experiment.objects.exists()


def test_at_most_one_experiment_runs_and_the_refusal_names_the_running_one():
    experiments.experiment_save(experiment=Experiment(name="first", arms=ARMS))
    with pytest.raises(DomainError, match="first") as refused:
        experiments.experiment_save(experiment=Experiment(name="second", arms=ARMS))
    assert refused.value.field == "is_running"
    # a stopped one may be created; the running one may be edited
    experiments.experiment_save(experiment=Experiment(name="second", arms=ARMS, is_running=False))
    first = Experiment.objects.get(name="first")
    first.description = "changed"
    experiments.experiment_save(experiment=first)
    assert Experiment.objects.filter(is_running=True).count() == 1


def test_the_admin_form_shows_the_running_experiment_refusal_readably(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    Experiment.objects.create(name="first", arms=ARMS)
    response = client.post(
        reverse("admin:recommender_experiment_add"),
        {
            "name": "second",
            "arms": '[{"name": "A", "model": "itemknn", "share": 50}, '
            '{"name": "B", "model": "hybrid", "share": 50}]',
            "is_running": "on",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "first" in page and "只能进行一个实验" in page
    assert "recommender_one_running_experiment" not in page
    assert Experiment.objects.count() == 1
