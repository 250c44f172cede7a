"""With a real Celery worker (PostgreSQL + Redis): nightly retrain activates a run; refresh in seconds."""

import time

import pytest

from core.testing import wait_for
from recommender.models import MemberRecommendation, TrainingRun
from recommender.tasks import retrain_nightly
from recommender.tests.factories import (
    ProductFactory,
    UserFactory,
    active_run,
    behaviour_seed,
    model_artifact,
)
from shop.models import Event
from shop.services.events import event_record

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_enqueued_retrain_fans_out_and_changes_the_active_run(celery_worker_process):
    # given behaviour and an older active run
    behaviour_seed(members=40)
    old = active_run()

    # when the nightly task is enqueued to the worker
    retrain_nightly.delay("test")

    # then a new run becomes active, scored in shards by the worker
    assert wait_for(lambda: TrainingRun.objects.filter(is_active=True).exclude(pk=old.pk).exists(), 180), (
        list(TrainingRun.objects.values("pk", "status", "error"))
    )
    run = TrainingRun.objects.get(is_active=True)
    assert run.status == TrainingRun.Status.SUCCEEDED and run.trigger == "test"
    assert len(run.shards_completed) == run.shards_total >= 1
    assert MemberRecommendation.objects.filter(run=run).exists()


def test_an_event_refreshes_the_members_list_within_seconds(celery_worker_process):
    # given an active run whose serving model saw product A with product B (the refresh folds the
    # member's history into the run's stored model)
    run = active_run()
    viewed, similar = ProductFactory(), ProductFactory()
    model_artifact(run, [[viewed, similar], [viewed, similar]])
    member = UserFactory()

    # when the member adds A to the cart (autocommit: queued at once)
    started = time.monotonic()
    assert event_record(kind=Event.Kind.CART_ADD, user=member, product=viewed) is not None

    # then the worker writes a refreshed list in under 5 seconds
    assert wait_for(
        lambda: MemberRecommendation.objects.filter(
            run=run, user=member, model="realtime", product=similar
        ).exists(),
        5,
    )
    print(f"event -> refreshed list: {time.monotonic() - started:.2f}s")
