"""Training runs: tables written then activated atomically, the quality gate, the lock, failures."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from core.testing import run_concurrently
from recommender import engine
from recommender.models import MemberRecommendation, PopularProduct, TrainingRun
from recommender.services import training
from recommender.services.training import bulk, runs
from recommender.tests.factories import active_run, behaviour_seed, member_rows, popular_rows

pytestmark = pytest.mark.django_db


def test_a_run_writes_every_table_and_becomes_the_only_active_run():
    # given behaviour of 30 members and an older active run
    _, catalogue, people = behaviour_seed()
    old = active_run(metrics={"itemknn": {"precision@10": 0.01}})
    popular_rows(old, catalogue[:3])

    # when a run executes in-process
    run = training.training_run_execute(trigger="test", model_names=["popularity", "itemknn"])

    # then it is active, the old one is not, and every table has rows for it
    run.refresh_from_db()
    old.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED and run.is_active and not old.is_active
    assert TrainingRun.objects.filter(is_active=True).count() == 1
    assert run.gate_passed is True
    assert {"load", "evaluate", "fit", "similar", "popular", "score", "activate"} <= set(run.timings)
    assert run.metrics["itemknn"]["precision@10"] > 0
    assert run.data_sizes["events"] > 0 and run.data_sizes["member_rows"] > 0
    assert run.similarities.exists() and run.rules.exists()
    assert run.popular.filter(segment="all").exists()
    assert run.popular.filter(segment__startswith="category:").exists()
    assert run.category_predictions.count() == len(people)
    assert run.code_version


def test_pages_keep_reading_the_active_run_until_the_new_one_is_activated():
    # given an active run and a new run whose member lists are written but not activated
    _, catalogue, people = behaviour_seed(members=12)
    old = active_run()
    member_rows(old, people[0], catalogue[:2])
    new = training.training_run_start(trigger="test")
    assert training.training_run_prepare(run_id=new.pk, model_names=["itemknn"])
    new.refresh_from_db()
    for shard in range(new.shards_total):
        training.member_shard_score(run_id=new.pk, shard=shard)

    # then what pages read (run__is_active) is still only the old run's rows
    visible = MemberRecommendation.objects.filter(run__is_active=True, user=people[0])
    assert set(visible.values_list("run_id", flat=True)) == {old.pk}

    # when it is activated, pages switch entirely to it
    training.training_run_activate(run_id=new.pk)
    assert set(MemberRecommendation.objects.filter(run__is_active=True).values_list("run_id", flat=True)) == {
        new.pk
    }


def test_a_run_worse_than_the_active_one_is_rejected_and_keeps_the_reason(settings):
    # given an active run with a precision the new one cannot reach
    settings.RECOMMENDER_GATE_MAX_DROP = 0.1
    behaviour_seed()
    old = active_run(metrics={"itemknn": {"precision@10": 0.95}}, gate={"protocol": "temporal"})
    popular_rows(old, [])

    # when a run executes
    run = training.training_run_execute(trigger="test", model_names=["itemknn"])

    # then it is rejected with the comparison kept, and the old run still serves
    assert run.status == TrainingRun.Status.REJECTED and run.gate_passed is False
    assert "below" in run.gate_reason and f"#{old.pk}" in run.gate_reason
    old.refresh_from_db()
    assert old.is_active
    assert not MemberRecommendation.objects.filter(run=run).exists()


def test_a_crash_marks_the_run_failed_drops_its_rows_and_leaves_the_active_run_serving():
    # given an active run and a scoring step that crashes
    _, catalogue, people = behaviour_seed(members=12)
    old = active_run()
    popular_rows(old, catalogue[:4])
    with mock.patch.object(runs, "member_shard_score", side_effect=RuntimeError("disk full")):
        # when a run executes
        with pytest.raises(RuntimeError):
            training.training_run_execute(trigger="test", model_names=["itemknn"])

    # then it is failed with its error, its partial rows are gone, the old run serves
    failed = TrainingRun.objects.exclude(pk=old.pk).get()
    assert failed.status == TrainingRun.Status.FAILED and "disk full" in failed.error
    assert not PopularProduct.objects.filter(run=failed).exists()
    assert TrainingRun.objects.get(is_active=True) == old
    # and the next run succeeds
    assert training.training_run_execute(trigger="test", model_names=["itemknn"]).is_active


def test_a_second_run_is_refused_while_one_runs():
    first = training.training_run_start(trigger="test")
    with pytest.raises(training.TrainingAlreadyRunning) as refused:
        training.training_run_start(trigger="test")
    assert refused.value.run_id == first.pk


def test_a_worker_killed_mid_run_leaves_nothing_active_and_the_next_run_succeeds():
    # given an active run, and a newer run killed after writing one of its shards
    _, catalogue, people = behaviour_seed(members=12)
    old = active_run()
    popular_rows(old, catalogue[:3])
    dead = training.training_run_start(trigger="test")
    training.training_run_prepare(run_id=dead.pk, model_names=["itemknn"])
    training.member_shard_score(run_id=dead.pk, shard=0)
    TrainingRun.objects.filter(pk=dead.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=1))
    assert TrainingRun.objects.get(is_active=True) == old  # its partial rows were never served

    # when the next run starts and runs through
    run = training.training_run_execute(trigger="test", model_names=["itemknn"])

    # then the dead one is failed with a reason, its rows are gone, and the new one is active
    dead.refresh_from_db()
    assert dead.status == TrainingRun.Status.FAILED and "lease expired" in dead.error
    assert not MemberRecommendation.objects.filter(run=dead).exists()
    assert not PopularProduct.objects.filter(run=dead).exists()
    assert run.is_active and TrainingRun.objects.get(is_active=True) == run


def test_activation_refuses_a_run_with_missing_shards():
    behaviour_seed(members=12)
    run = training.training_run_start(trigger="test")
    training.training_run_prepare(run_id=run.pk, model_names=["itemknn"])
    with pytest.raises(RuntimeError, match="shards"):
        training.training_run_activate(run_id=run.pk)
    assert not TrainingRun.objects.filter(is_active=True).exists()


def test_old_runs_are_pruned_beyond_the_configured_number(settings):
    settings.RECOMMENDER_KEEP_RUNS = 2
    runs = [TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED) for _ in range(4)]
    keep = active_run()
    assert training.training_runs_prune() == 3
    assert set(TrainingRun.objects.values_list("pk", flat=True)) == {keep.pk, runs[-1].pk}


def test_an_empty_shop_still_gets_a_popular_list():
    from recommender.tests.factories import ProductFactory

    ProductFactory.create_batch(3)
    run = training.training_run_execute(trigger="test")
    assert run.is_active and run.serving_model == "popularity"
    assert run.popular.filter(segment="all").count() == 3


def test_unknown_models_are_refused():
    with pytest.raises(ValueError, match="unknown models"):
        engine.available_models(["nope"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_started_together_one_runs_the_other_is_refused():
    runs = run_concurrently(
        *[lambda: training.training_run_start(trigger="race")] * 2, catch=(training.TrainingAlreadyRunning,)
    )
    outcomes = ["refused" if isinstance(run, training.TrainingAlreadyRunning) else run.pk for run in runs]
    assert sorted(map(str, outcomes)).count("refused") == 1
    assert TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).count() == 1


def _top_n_rows_written_in_bulk():
    """Rows with NULLs, empty strings, commas and quotes, written through the bulk-write helper."""
    from recommender.models import MemberCategoryPrediction, MemberRecommendation
    from recommender.tests.factories import CategoryFactory, ProductFactory, UserFactory

    run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)
    member, category = UserFactory(), CategoryFactory()
    products = ProductFactory.create_batch(3)
    reasons = ["", 'a,"quoted" reason', "similar_to_seen"]
    rows = (
        MemberRecommendation(
            run=run,
            user=member,
            product=p,
            model="itemknn",
            score=0.5 + i,
            rank=i + 1,
            reason=reasons[i],
            reason_product=products[0] if i else None,
        )
        for i, p in enumerate(products)
    )
    written = bulk.rows_write(MemberRecommendation, rows)
    bulk.rows_write(
        MemberCategoryPrediction,
        iter([MemberCategoryPrediction(run=run, user=member, category=category, score=0.25)]),
    )
    stored = list(
        MemberRecommendation.objects.filter(run=run)
        .order_by("rank")
        .values_list("product_id", "score", "rank", "reason", "reason_product_id")
    )
    assert written == 3
    assert stored == [
        (products[0].pk, 0.5, 1, "", None),
        (products[1].pk, 1.5, 2, reasons[1], products[0].pk),
        (products[2].pk, 2.5, 3, "similar_to_seen", products[0].pk),
    ]
    assert MemberCategoryPrediction.objects.get(run=run).offer_issued is False


def test_top_n_rows_are_written_with_bulk_create_off_postgresql(monkeypatch):
    # given the writer chosen for databases other than PostgreSQL (on SQLite it is the default)
    if connection.vendor != "postgresql":
        assert bulk.batch_writer() is bulk.insert_batch
    monkeypatch.setattr(bulk, "batch_writer", lambda: bulk.insert_batch)
    # then rows are written through bulk_create, never COPY
    calls = []
    monkeypatch.setattr(bulk, "copy_batch", lambda *a: calls.append(a))
    _top_n_rows_written_in_bulk()
    assert calls == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_top_n_rows_are_written_with_copy_on_postgresql(monkeypatch):
    # given PostgreSQL, the helper writes with COPY (bulk_create is never called)
    def no_insert(*args):
        raise AssertionError("bulk_create used on PostgreSQL")

    monkeypatch.setattr(bulk, "insert_batch", no_insert)
    _top_n_rows_written_in_bulk()
