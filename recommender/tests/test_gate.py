"""The quality gate: temporal protocol, paired interval against the active run, refusal of drops and jumps."""

import random

import pytest

from recommender.models import TrainingRun
from recommender.services import training
from recommender.tests.factories import behaviour_seed
from shop.models import Event, Order

pytestmark = pytest.mark.django_db

MODELS = ["popularity", "itemknn", "ease", "hybrid"]


def _first_run():
    behaviour_seed(members=90, products=60)
    run = training.training_run_execute(trigger="test", model_names=MODELS)
    assert run.is_active, run.gate_reason
    return run


def test_normal_retraining_passes_with_an_interval_against_the_active_runs_model():
    # given an active run trained on the shop's behaviour
    old = _first_run()
    assert old.gate["protocol"] == "temporal" and old.gate["code"] == "first"

    # when the nightly run trains again on the same behaviour
    run = training.training_run_execute(trigger="test", model_names=MODELS)

    # then it passes: same figure as the active run, compared on the same split with its model refitted
    assert run.status == TrainingRun.Status.SUCCEEDED and run.gate_passed is True, run.gate_reason
    gate = run.gate
    assert gate["code"] == "passed" and gate["old"] == old.metrics[old.serving_model]["precision@10"]
    assert gate["reference"].startswith(f"active run #{old.pk}")
    assert gate["ci"]["n_resamples"] == 1000 and gate["ci"]["low"] <= gate["ci"]["diff"] <= gate["ci"]["high"]
    assert "95% CI" in run.gate_reason
    # purchase-only precision is measured beside any-interaction precision, for every model
    assert all("precision_purchase@10" in run.metrics[m] for m in MODELS)
    assert set(gate["versus_models"]) == set(MODELS) - {run.serving_model}


def test_a_run_on_random_events_is_refused_and_keeps_the_reason():
    # given an active run, and then the behaviour replaced by random events (a broken import)
    old = _first_run()
    products = list({e.product for e in Event.objects.select_related("product")})
    members = list({e.user for e in Event.objects.select_related("user")})
    Event.objects.all().delete()
    Order.objects.all().delete()
    rng = random.Random(3)
    Event.objects.bulk_create(
        Event(user=m, product=p, kind=Event.Kind.VIEW) for m in members for p in rng.sample(products, 8)
    )

    # when the run executes
    run = training.training_run_execute(trigger="test", model_names=MODELS)

    # then it is refused for the drop, with the reason on the run, and the old run still serves
    assert run.status == TrainingRun.Status.REJECTED and run.gate_passed is False
    assert run.gate["code"] == "drop" and "below" in run.gate_reason and f"#{old.pk}" in run.gate_reason
    assert TrainingRun.objects.get(is_active=True) == old


def test_an_implausible_jump_is_refused(settings):
    # given an active run whose precision is a third of what the same data gives now
    old = _first_run()
    figure = old.metrics[old.serving_model]["precision@10"]
    old.metrics[old.serving_model]["precision@10"] = figure / 4
    old.save(update_fields=["metrics"])

    # when the run executes on the same data
    run = training.training_run_execute(trigger="test", model_names=MODELS)

    # then the jump is refused as implausible
    assert run.status == TrainingRun.Status.REJECTED and run.gate["code"] == "implausible"
    assert "implausible jump" in run.gate_reason

    # and so is any precision above the ceiling, even without a comparison
    settings.RECOMMENDER_GATE_MAX_PRECISION = 0.01
    TrainingRun.objects.filter(is_active=True).update(is_active=False)
    run = training.training_run_execute(trigger="test", model_names=MODELS)
    assert run.gate_passed is False and "implausibly high" in run.gate_reason
