"""Celery entry points: nightly retraining fanned out over member shards, and per-member refresh.

Every task here is safe to run twice (a run start is refused while one runs, a shard starts from a
clean slate, offers are issued once per prediction, a refresh replaces rows), so each is acknowledged
late and redelivered when the worker running it dies (reject_on_worker_lost).
"""

import logging
import traceback
from dataclasses import dataclass

from celery import group, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recommender.models import TrainingRun
from recommender.services import offers, realtime, refresh, training

logger = logging.getLogger(__name__)

REDELIVERY = {"acks_late": True, "reject_on_worker_lost": True}


def shards_dispatch(run_id: int, shards: int) -> None:
    """One task per member shard: more workers score more shards at once. The last one activates."""
    group(score_member_shard.s(run_id, shard) for shard in range(shards)).apply_async()


# Longer than the default 240 s soft limit, which would kill a large run mid-way.
@shared_task(
    bind=True,
    name="recommender.tasks.retrain_nightly",
    soft_time_limit=1500,
    time_limit=1800,
    max_retries=3,
    **REDELIVERY,
)
def retrain_nightly(self, trigger: str = "nightly", models=None):
    """Train, evaluate, gate and fan out scoring; refused (not queued twice) while another runs.

    Redelivered after its worker died, it finds that worker's run still holding the lease for a
    moment: it retries once the lease has lapsed instead of giving up.
    """
    try:
        run = training.training_run_execute(trigger=trigger, model_names=models, shard_runner=shards_dispatch)
    except training.TrainingAlreadyRunning as exc:
        if (self.request.delivery_info or {}).get("redelivered"):
            lease = (
                TrainingRun.objects.filter(pk=exc.run_id).values_list("lease_expires_at", flat=True).first()
                or timezone.now()
            )
            countdown = max(5, int((lease - timezone.now()).total_seconds()) + 5)
            logger.info("redelivered retrain waits %ss for run #%s's lease", countdown, exc.run_id)
            raise self.retry(countdown=countdown) from None
        logger.info("retrain skipped: run #%s is still running", exc.run_id)
        return {"status": "skipped", "running_run": exc.run_id}
    return {"status": run.status, "run": run.pk}


@shared_task(name="recommender.tasks.score_member_shard", soft_time_limit=600, time_limit=720, **REDELIVERY)
def score_member_shard(run_id: int, shard: int):
    try:
        last = training.member_shard_score(run_id=run_id, shard=shard)
        if last:
            training.training_run_complete(run_id=run_id, offers_issue=issue_personal_offers.delay)
    except Exception:
        training.training_run_fail(run_id=run_id, error=f"shard {shard}:\n{traceback.format_exc()}")
        raise
    return {"run": run_id, "shard": shard, "last": last}


@shared_task(
    name="recommender.tasks.issue_personal_offers", soft_time_limit=600, time_limit=720, **REDELIVERY
)
def issue_personal_offers(run_id: int):
    return offers.personal_offers_issue(run_id=run_id)


@shared_task(
    name="recommender.tasks.refresh_member",
    soft_time_limit=30,
    time_limit=60,
    ignore_result=True,
    **REDELIVERY,
)
def refresh_member(user_id: int):
    return realtime.member_recommendations_refresh(user_id=user_id)


def refresh_schedule(*, user_id, kind) -> bool:
    """After a purchase, a cart add or a few views, queue a refresh once the transaction commits.

    Debounced (services.refresh.refresh_due); never raises: with the broker or cache down the
    event is still in the database and the nightly run learns from it.
    """
    if not refresh.refresh_due(user_id=user_id, kind=kind):
        return False

    def enqueue():
        try:
            refresh_member.delay(user_id)
        except Exception:
            logger.warning(
                "recommendation refresh not queued for member %s (broker down)", user_id, exc_info=True
            )

    transaction.on_commit(enqueue)
    return True


@dataclass(frozen=True)
class RetrainRequest:
    """What "retrain now" really did: the page tells staff exactly this."""

    # "queued"; "taking_over" (queued; the running run's worker is gone); "running" (refused: a live run);
    # "ran" / "failed" (tasks run in-process); "unavailable" (no broker)
    outcome: str
    run: TrainingRun | None = None  # the run in progress (running / taking_over) or the one just run


def retrain_enqueue(*, trigger: str = "staff") -> RetrainRequest:
    """Queue a retrain now (the admin button), unless a live run would make the worker skip it."""
    running = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).first()
    if running is not None and running.lease_expires_at and running.lease_expires_at >= timezone.now():
        return RetrainRequest("running", running)
    try:
        result = retrain_nightly.delay(trigger)
    except Exception:  # broker down (or, run in-process, the run failed): say so instead of a 500
        logger.warning("could not enqueue retrain", exc_info=True)
        if eager():
            return RetrainRequest("failed", TrainingRun.objects.order_by("-started_at", "-id").first())
        return RetrainRequest("unavailable")
    if eager():
        run_id = (result.result or {}).get("run") if isinstance(result.result, dict) else None
        return RetrainRequest("ran", TrainingRun.objects.filter(pk=run_id).first())
    return RetrainRequest("taking_over" if running is not None else "queued", running)


def eager() -> bool:
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
