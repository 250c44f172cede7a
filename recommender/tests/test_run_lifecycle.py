"""A killed worker does not block retraining: late acknowledgement, a short lease kept by a heartbeat,
staff can cancel a run, and "retrain now" says what will really happen."""

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from recommender import tasks
from recommender.models import PopularProduct, TrainingRun
from recommender.services import training
from recommender.services.training import lease, runs
from recommender.tests.factories import UserFactory, active_run, behaviour_seed, popular_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_every_recommender_task_is_acknowledged_late_and_redelivered_when_its_worker_dies():
    for task in (
        tasks.retrain_nightly,
        tasks.score_member_shard,
        tasks.issue_personal_offers,
        tasks.refresh_member,
    ):
        assert task.acks_late is True and task.reject_on_worker_lost is True, task.name


def test_a_lease_is_short_and_a_run_whose_worker_stopped_renewing_it_is_taken_over(settings):
    # given a run started with a two-minute lease
    settings.RECOMMENDER_LOCK_TTL = 120
    dead = training.training_run_start(trigger="test")
    assert dead.lease_expires_at <= timezone.now() + timedelta(seconds=121)

    # when the clock is a minute on (lease still held), a second run is refused
    later = timezone.now() + timedelta(seconds=60)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with pytest.raises(training.TrainingAlreadyRunning):
            training.training_run_start(trigger="test")

    # when the clock is past the lease (nobody renewed it), the next run takes over
    much_later = timezone.now() + timedelta(seconds=125)
    with mock.patch("django.utils.timezone.now", return_value=much_later):
        run = training.training_run_start(trigger="test")
    dead.refresh_from_db()
    assert dead.status == TrainingRun.Status.FAILED and "lease expired" in dead.error
    assert run.status == TrainingRun.Status.RUNNING


def test_a_renewed_lease_keeps_the_run_and_a_stopped_run_is_not_renewed(settings):
    settings.RECOMMENDER_LOCK_TTL = 120
    run = training.training_run_start(trigger="test")
    later = timezone.now() + timedelta(seconds=100)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert lease.lease_renew(run.pk)  # the heartbeat at 100 s pushes the lease to 220 s
    with mock.patch("django.utils.timezone.now", return_value=later + timedelta(seconds=60)):
        with pytest.raises(training.TrainingAlreadyRunning):
            training.training_run_start(trigger="test")
    training.training_run_cancel(run_id=run.pk)
    assert not lease.lease_renew(run.pk)


def test_the_heartbeat_renews_while_the_block_runs_and_stops_after(monkeypatch):
    calls = []
    monkeypatch.setattr(lease, "lease_renew", lambda run_id: calls.append(run_id) or True)
    with lease.lease_heartbeat(7, interval=0.02) as stopped:
        time.sleep(0.2)
    count = len(calls)
    time.sleep(0.1)
    assert count >= 3 and set(calls) == {7} and len(calls) == count and not stopped.is_set()
    assert not any(t.name == "training-run-7-lease" for t in threading.enumerate())


def test_the_heartbeat_flags_a_run_that_was_stopped(monkeypatch):
    monkeypatch.setattr(lease, "lease_renew", lambda run_id: False)
    with lease.lease_heartbeat(7, interval=0.01) as stopped:
        assert stopped.wait(1)


def test_a_cancelled_run_frees_the_lock_at_once_and_its_rows_are_dropped():
    # given a running run that wrote a popular list
    run = training.training_run_start(trigger="test")
    popular_rows(run, [])
    PopularProduct.objects.filter(run=run).delete()

    # when staff cancel it
    cancelled = training.training_run_cancel(run_id=run.pk, cancelled_by="staff #1")

    # then it is cancelled, and the next run starts without waiting for any lease
    assert cancelled.status == TrainingRun.Status.CANCELLED and "staff #1" in cancelled.error
    assert training.training_run_start(trigger="test").status == TrainingRun.Status.RUNNING
    # and a finished run cannot be cancelled
    with pytest.raises(DomainError, match="无需取消"):
        training.training_run_cancel(run_id=run.pk)


def test_a_run_cancelled_while_it_works_stops_writes_nothing_more_and_is_never_activated():
    # given behaviour and an active run
    _, catalogue, _ = behaviour_seed(members=12)
    old = active_run()
    popular_rows(old, catalogue[:3])
    real_popular_write = runs.popular_write

    def cancelled_meanwhile(run_id, interactions, items):
        real_popular_write(run_id, interactions, items)
        training.training_run_cancel(run_id=run_id, cancelled_by="test")

    # when staff cancel it while it writes its popular lists
    with mock.patch.object(runs, "popular_write", side_effect=cancelled_meanwhile):
        run = training.training_run_execute(trigger="test", model_names=["itemknn"])

    # then the run stops at its next stage, stays cancelled, and the old run keeps serving
    assert run.status == TrainingRun.Status.CANCELLED and not run.is_active
    assert not PopularProduct.objects.filter(run=run).exists()
    assert TrainingRun.objects.get(is_active=True) == old


def test_a_redelivered_retrain_waits_for_the_dead_workers_lease_instead_of_giving_up():
    running = training.training_run_start(trigger="test")
    tasks.retrain_nightly.push_request(delivery_info={"redelivered": True})
    try:
        with pytest.raises(Retry):
            tasks.retrain_nightly.run("nightly")
    finally:
        tasks.retrain_nightly.pop_request()
    # a first delivery is simply skipped while a run is in progress
    assert tasks.retrain_nightly.run("nightly") == {"status": "skipped", "running_run": running.pk}


def test_cancel_run_admin_action(staff_client):
    run = training.training_run_start(trigger="test")
    response = staff_client.post(
        reverse("admin:recommender_trainingrun_changelist"),
        {"action": "cancel_runs", "_selected_action": [run.pk]},
        follow=True,
    )
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED
    assert any(f"训练 #{run.pk} 已取消" in m for m in _messages(response))


def test_retrain_now_says_a_run_is_already_in_progress_and_since_when(staff_client):
    running = training.training_run_start(trigger="test")
    response = staff_client.post(reverse("admin:recommender_retrain"))
    since = timezone.localtime(running.started_at).strftime("%H:%M")
    assert any(f"#{running.pk}" in m and since in m and "正在进行" in m for m in _messages(response))
    assert TrainingRun.objects.count() == 1  # nothing queued that the worker would skip


def test_retrain_now_says_it_was_queued_when_a_worker_will_run_it(staff_client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(tasks.retrain_nightly, "delay", lambda *args: queued.append(args))
    response = staff_client.post(reverse("admin:recommender_retrain"))
    assert queued == [("staff",)]
    assert any("已加入训练队列" in m for m in _messages(response))


def test_retrain_now_says_the_stuck_run_will_be_replaced_when_its_lease_lapsed(
    staff_client, settings, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    stuck = training.training_run_start(trigger="test")
    TrainingRun.objects.filter(pk=stuck.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(tasks.retrain_nightly, "delay", lambda *args: None)
    response = staff_client.post(reverse("admin:recommender_retrain"))
    assert any(f"#{stuck.pk}" in m and "失去响应" in m for m in _messages(response))


def test_retrain_now_says_the_queue_is_down(staff_client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def broker_down(*args):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks.retrain_nightly, "delay", broker_down)
    response = staff_client.post(reverse("admin:recommender_retrain"))
    assert any("任务队列暂时不可用" in m for m in _messages(response))


def test_retrain_now_in_process_says_how_the_run_ended(staff_client):
    behaviour_seed(members=12)
    response = staff_client.post(reverse("admin:recommender_retrain"))
    run = TrainingRun.objects.get(trigger="staff")
    assert any(f"训练 #{run.pk} 已完成" in m for m in _messages(response))
