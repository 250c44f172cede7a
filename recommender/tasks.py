"""Celery entry points: nightly retraining fanned out over member shards, and per-member refresh."""
import logging
import traceback

from celery import group, shared_task
from django.conf import settings

from recommender.services import offers, refresh, training

logger = logging.getLogger(__name__)


def _shards_dispatch(run_id: int, shards: int) -> None:
    """One task per member shard: more workers score more shards at once. The last one activates."""
    group(score_member_shard.s(run_id, shard) for shard in range(shards)).apply_async()


# Longer than the default 240 s soft limit, which would kill a large run mid-way.
@shared_task(name="recommender.tasks.retrain_nightly", soft_time_limit=1500, time_limit=1800, acks_late=False)
def retrain_nightly(trigger: str = "nightly", models=None):
    """Train, evaluate, gate and fan out scoring; refused (not queued twice) while another runs."""
    try:
        run = training.training_run_execute(trigger=trigger, model_names=models, shard_runner=_shards_dispatch)
    except training.TrainingAlreadyRunning as exc:
        logger.info("retrain skipped: run #%s is still running", exc.run_id)
        return {"status": "skipped", "running_run": exc.run_id}
    return {"status": run.status, "run": run.pk}


@shared_task(name="recommender.tasks.score_member_shard", soft_time_limit=600, time_limit=720)
def score_member_shard(run_id: int, shard: int):
    try:
        last = training.member_shard_score(run_id=run_id, shard=shard)
        if last:
            training.training_run_complete(run_id=run_id, offers_issue=issue_personal_offers.delay)
    except Exception:
        training.training_run_fail(run_id=run_id, error=f"shard {shard}:\n{traceback.format_exc()}")
        raise
    return {"run": run_id, "shard": shard, "last": last}


@shared_task(name="recommender.tasks.issue_personal_offers", soft_time_limit=600, time_limit=720)
def issue_personal_offers(run_id: int):
    return offers.personal_offers_issue(run_id=run_id)


@shared_task(name="recommender.tasks.refresh_member", soft_time_limit=30, time_limit=60,
             ignore_result=True)
def refresh_member(user_id: int):
    return refresh.member_recommendations_refresh(user_id=user_id)


def retrain_enqueue(*, trigger: str = "staff") -> bool:
    """Queue a retrain now (the admin button); False when the broker cannot be reached."""
    try:
        retrain_nightly.delay(trigger)
    except Exception:  # broker down: say so instead of a 500
        logger.warning("could not enqueue retrain", exc_info=True)
        return False
    return True


def eager() -> bool:
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
