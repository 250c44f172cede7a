"""A training run's life: lock, load, evaluate, gate, fit, write tables, score shards, activate, cancel."""

from __future__ import annotations

import logging
import subprocess
import time
import traceback
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_row, lock_row_or_none, lock_rows
from recommender import engine
from recommender.models import (
    BoughtTogetherRule,
    Experiment,
    MemberCategoryPrediction,
    MemberRecommendation,
    PopularProduct,
    ProductSimilarity,
    TrainingRun,
)
from recommender.services.frames import interactions_frame, items_frame
from recommender.services.offers import personal_offers_issue
from recommender.services.training.gate import run_gate
from recommender.services.training.lease import (
    RunStopped,
    lease_heartbeat,
    lease_renew,
    lease_renew_or_stop,
    lease_until,
)
from recommender.services.training.scoring import member_shard_score
from recommender.services.training.tables import popular_write, rules_write, similarities_write
from recommender.services.training.variety import SERVED_METRICS_KEY, served_list_figures
from recommender.serving import repurchase_intervals_refresh, serving_state_forget

logger = logging.getLogger(__name__)

# Queued shard tasks may wait behind other work before a worker picks them up and renews the lease:
# as long as a shard task may run (its time limit), so a busy queue is not taken for a dead worker.
SHARD_PICKUP_SECONDS = 720


class TrainingAlreadyRunning(DomainError):
    def __init__(self, run_id, started_at=None):
        super().__init__(_("已有训练正在进行（#%(id)s）。") % {"id": run_id}, code="training_running")
        self.run_id = run_id
        self.started_at = started_at


def code_version() -> str:
    """git describe of the deployed tree, else a VERSION file, else "unknown"."""
    base = Path(settings.BASE_DIR)
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=base,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()[:80]
    except (OSError, subprocess.SubprocessError):
        pass
    version_file = base / "VERSION"
    if version_file.exists():
        return version_file.read_text().strip()[:80]
    return "unknown"


# -- lock ----------------------------------------------------------------------------------------
def training_run_start(*, trigger: str = "manual", parameters: dict | None = None) -> TrainingRun:
    """Create the one "running" run, or raise TrainingAlreadyRunning.

    The partial unique constraint on status="running" is the lock: a second insert fails (on
    PostgreSQL it waits for the first transaction and then fails). A running run whose lease
    lapsed belongs to a dead worker: it is marked failed first, so the next run can proceed.
    """
    now = timezone.now()
    dead = []
    with transaction.atomic():
        for stale in lock_rows(
            TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, lease_expires_at__lt=now)
        ):
            stale.status = TrainingRun.Status.FAILED
            stale.finished_at = now
            stale.error = (
                "lease expired: the worker running it died or was killed; marked failed by run start"
            )
            stale.save(update_fields=["status", "finished_at", "error"])
            dead.append(stale.pk)
            logger.warning("training run %s: lease expired, marked failed", stale.pk)
        try:
            with transaction.atomic():
                run = TrainingRun.objects.create(
                    status=TrainingRun.Status.RUNNING,
                    trigger=trigger,
                    parameters=parameters or {},
                    lease_expires_at=lease_until(),
                    code_version=code_version(),
                )
        except IntegrityError:
            running = (
                TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING)
                .values_list("pk", "started_at")
                .first()
            ) or (None, None)
            raise TrainingAlreadyRunning(*running) from None
    for run_id in dead:  # its partial rows were never visible; drop them now
        _run_rows_delete(run_id)
        engine.artifact_delete(run_id)
    return run


def training_run_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed with its error; the active run keeps serving, partial rows are dropped."""
    with transaction.atomic():
        updated = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(
            status=TrainingRun.Status.FAILED, finished_at=timezone.now(), error=error[:10000]
        )
    if updated:
        _run_rows_delete(run_id)
        engine.artifact_delete(run_id)


def training_run_cancel(*, run_id: int, cancelled_by: str = "") -> TrainingRun:
    """Stop a running run now (staff's "cancel run"): the lock is free at once for the next run.

    The worker still busy with it notices at its next stage boundary or lease renewal and stops;
    whatever it wrote is dropped (never served: the run was never active).
    """
    with transaction.atomic():
        try:
            run = lock_row(TrainingRun.objects.all(), run_id)
        except TrainingRun.DoesNotExist:
            raise DomainError(_("训练记录 #%(id)s 不存在。") % {"id": run_id}, code="not_found") from None
        if run.status != TrainingRun.Status.RUNNING:
            raise DomainError(
                _("训练 #%(id)s 已结束（%(status)s），无需取消。")
                % {"id": run.pk, "status": run.get_status_display()},
                code="not_running",
            )
        run.status = TrainingRun.Status.CANCELLED
        run.finished_at = timezone.now()
        run.error = f"cancelled by {cancelled_by or 'staff'}"
        run.save(update_fields=["status", "finished_at", "error"])
    _run_rows_delete(run_id)
    engine.artifact_delete(run_id)
    return run


def _run_rows_delete(run_id: int) -> None:
    for model in (
        MemberRecommendation,
        ProductSimilarity,
        BoughtTogetherRule,
        PopularProduct,
        MemberCategoryPrediction,
    ):
        model.objects.filter(run_id=run_id).delete()


def _run_update(run_id: int, **fields) -> None:
    """Save fields of a running run; a run cancelled meanwhile stays cancelled (and the work stops)."""
    if not TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(**fields):
        raise RunStopped(run_id)


@contextmanager
def _stage(run_id: int, timings: dict, name: str, progress=None):
    lease_renew_or_stop(run_id)  # a stage boundary: renew, or stop when the run was cancelled
    if progress:
        progress(name)
    start = time.perf_counter()
    yield
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - start, 3)


def _timings_merge(run_id: int, extra: dict) -> None:
    with transaction.atomic():
        run = lock_row(TrainingRun.objects.all(), run_id)
        run.timings = {**run.timings, **extra}
        run.save(update_fields=["timings"])


# -- prepare: everything up to the member scoring ------------------------------------------------
def training_run_prepare(*, run_id: int, model_names=None, progress=None) -> bool:
    """Load, evaluate, gate, fit and write the product-level tables. False when the gate rejects.

    Nothing written here is visible to pages until training_run_activate flips the run active.
    Raises RunStopped when the run was cancelled meanwhile.
    """
    run = TrainingRun.objects.get(pk=run_id)
    timings: dict = {}
    names = engine.available_models(model_names or run.parameters.get("models"))
    with _stage(run_id, timings, "load", progress):
        interactions = interactions_frame()
        items = items_frame()
        # Consumables' learned repurchase intervals, read by bought_product_ids on every page.
        repurchase_intervals_refresh()
    sizes = {
        "events": int(len(interactions)),
        "members": int(interactions["user_id"].nunique()),
        "products": int(len(items)),
        "products_with_events": int(interactions["item_id"].nunique()),
    }
    evaluation = None
    if len(interactions):
        with _stage(run_id, timings, "evaluate", progress):
            evaluation = engine.models_evaluate(interactions, items, names)
    metrics = evaluation.metrics if evaluation is not None else {}
    serving = engine.serving_model_choose(metrics, names) if len(interactions) else "popularity"
    if evaluation is not None and serving in evaluation.models and serving in metrics:
        # What members will see, measured on the same holdout: variety figures and the re-rank's cost.
        with _stage(run_id, timings, "served_list", progress):
            metrics[serving][SERVED_METRICS_KEY] = served_list_figures(
                model=evaluation.models[serving],
                train=evaluation.train,
                relevant=evaluation.relevant,
                users=evaluation.users,
                items=items,
            )
    started = time.perf_counter()
    passed, reason, gate = run_gate(evaluation=evaluation, serving=serving)
    timings["gate"] = round(time.perf_counter() - started, 3)
    outcome = dict(
        data_sizes=sizes,
        metrics=metrics,
        serving_model=serving,
        gate_passed=passed,
        gate_reason=reason,
        gate=gate,
        timings=timings,
        lease_expires_at=lease_until(),
    )
    if not passed:
        _run_update(run_id, status=TrainingRun.Status.REJECTED, finished_at=timezone.now(), **outcome)
        logger.warning("training run %s rejected: %s", run_id, reason)
        return False
    _run_update(run_id, **outcome)

    list_models = _list_models(serving, names) if len(interactions) else []
    with _stage(run_id, timings, "fit", progress):
        fitted = engine.models_fit(
            list_models,
            interactions,
            items,
            tuned=evaluation.models if evaluation else None,
            params=evaluation.params if evaluation else None,
        )
    with _stage(run_id, timings, "similar", progress):
        similarities_write(run_id, interactions, items)
        rules_write(run_id, interactions)
    with _stage(run_id, timings, "popular", progress):
        popular_write(run_id, interactions, items)
    member_ids = sorted(int(u) for u in fitted[serving].user_ids_) if fitted else []
    shards = min(settings.RECOMMENDER_SHARDS, max(1, len(member_ids) // 200)) if member_ids else 0
    with _stage(run_id, timings, "persist", progress):
        if fitted:
            engine.artifact_save(
                run_id,
                {
                    "models": fitted,
                    "member_ids": member_ids,
                    "serving": serving,
                    "item_category": dict(
                        zip(items["item_id"].astype(int), items["category_id"].astype(int))
                    ),
                },
            )
    _run_update(
        run_id,
        parameters={**run.parameters, "models": names, "list_models": list_models},
        data_sizes={**sizes, "lists_for_members": len(member_ids)},
        shards_total=shards,
        timings=timings,
        lease_expires_at=lease_until(),
    )
    return True


def _list_models(serving: str, names) -> list[str]:
    """The serving model plus any model a running experiment serves to one of its arms."""
    wanted = [serving]
    for arms in Experiment.objects.filter(is_running=True).values_list("arms", flat=True):
        for arm in arms or []:
            model = arm.get("model")
            if model in names and model not in wanted:
                wanted.append(model)
    return wanted


# -- activation ----------------------------------------------------------------------------------
def training_run_activate(*, run_id: int) -> TrainingRun:
    """Check the run is complete, then make it the active one in one transaction and prune old runs."""
    started = time.perf_counter()
    with transaction.atomic():
        run = lock_row(TrainingRun.objects.all(), run_id)
        if run.status != TrainingRun.Status.RUNNING:
            return run
        problems = []
        if len(run.shards_completed) < run.shards_total:
            problems.append(f"only {len(run.shards_completed)} of {run.shards_total} shards written")
        if not PopularProduct.objects.filter(run_id=run_id, segment="all").exists():
            problems.append("no popular list")
        if run.shards_total and not MemberRecommendation.objects.filter(run_id=run_id).exists():
            problems.append("no member lists")
        if problems:
            raise RuntimeError("run incomplete: " + "; ".join(problems))
        counts = {
            "member_rows": MemberRecommendation.objects.filter(run_id=run_id).count(),
            "similar_rows": ProductSimilarity.objects.filter(run_id=run_id).count(),
            "rules": BoughtTogetherRule.objects.filter(run_id=run_id).count(),
            "popular_rows": PopularProduct.objects.filter(run_id=run_id).count(),
        }
        TrainingRun.objects.filter(is_active=True).exclude(pk=run_id).update(is_active=False)
        now = timezone.now()
        run.is_active, run.status = True, TrainingRun.Status.SUCCEEDED
        run.activated_at = run.finished_at = now
        run.data_sizes = {**run.data_sizes, **counts}
        run.timings = {**run.timings, "activate": round(time.perf_counter() - started, 3)}
        run.save()
        transaction.on_commit(serving_state_forget)
    training_runs_prune()
    return run


def _offers_issue_here(run_id: int):
    return personal_offers_issue(run_id=run_id)


def training_run_complete(*, run_id: int, offers_issue=None) -> TrainingRun:
    """Activate the run, then what follows activation: the same steps whichever path ran it.

    `offers_issue(run_id)` issues the personal offers of the newly active run (the Celery path
    passes a task's `.delay`); by default they are issued in this process. The run is active and
    serving by then, so a failure to issue offers is logged, not raised (offers are issued once
    per prediction: the next call picks up what was left).
    """
    run = training_run_activate(run_id=run_id)
    if run.is_active:
        started = time.perf_counter()
        try:
            (offers_issue or _offers_issue_here)(run.pk)
        except Exception:
            logger.exception("run %s is active but its personal offers were not issued", run.pk)
        # After activation, so not part of the run's own duration (stage_total leaves it out).
        _timings_merge(run.pk, {"after_offers": round(time.perf_counter() - started, 3)})
        run.refresh_from_db()
    return run


def training_runs_prune(*, keep: int | None = None) -> int:
    """Delete finished runs beyond the newest `keep` (never the active or a running one)."""
    keep = settings.RECOMMENDER_KEEP_RUNS if keep is None else keep
    finished = TrainingRun.objects.exclude(status=TrainingRun.Status.RUNNING).filter(is_active=False)
    keep_ids = list(TrainingRun.objects.order_by("-started_at", "-id").values_list("pk", flat=True)[:keep])
    old = list(finished.exclude(pk__in=keep_ids).values_list("pk", flat=True))
    for run_id in old:
        _run_rows_delete(run_id)  # children first, in batches the database handles well
        TrainingRun.objects.filter(pk=run_id).delete()
        engine.artifact_delete(run_id)
    return len(old)


def training_run_delete(*, run_id: int) -> None:
    """Delete one finished run: its rows in one statement per table (not object by object), then the run.

    The active run serves every page and a running one is being written: both are refused."""
    with transaction.atomic():
        run = lock_row_or_none(TrainingRun.objects.filter(pk=run_id))
        if run is None:
            return
        if run.is_active:
            raise DomainError(
                _("训练 #%(id)s 正在使用中，不能删除；先启用另一次训练。") % {"id": run_id}, code="run_active"
            )
        if run.status == TrainingRun.Status.RUNNING:
            raise DomainError(
                _("训练 #%(id)s 正在进行，不能删除；请先取消它。") % {"id": run_id}, code="run_running"
            )
        _run_rows_delete(run_id)
        run.delete()
    transaction.on_commit(lambda: engine.artifact_delete(run_id))


# -- the whole run in this process ---------------------------------------------------------------
def training_run_execute(
    *, trigger: str = "manual", model_names=None, progress=None, shard_runner=None
) -> TrainingRun:
    """Start, prepare and score (in-process unless `shard_runner(run_id, shards)` fans out).

    A heartbeat keeps the run's short lease alive while it works. Any error marks the run failed
    with its traceback and re-raises; a run cancelled meanwhile stops and is returned as it is.
    The active run keeps serving either way.
    """
    run = training_run_start(
        trigger=trigger, parameters={"models": list(model_names or engine.DEFAULT_MODELS)}
    )
    try:
        with lease_heartbeat(run.pk):
            if not training_run_prepare(run_id=run.pk, model_names=model_names, progress=progress):
                return TrainingRun.objects.get(pk=run.pk)
            run.refresh_from_db()
            if shard_runner is not None and run.shards_total:
                # Until a worker picks the first shard up and its own heartbeat takes over.
                lease_renew(run.pk, seconds=SHARD_PICKUP_SECONDS)
                shard_runner(run.pk, run.shards_total)
                return TrainingRun.objects.get(pk=run.pk)
            score_started = time.perf_counter()
            if progress:
                progress("score")
            for shard in range(run.shards_total):
                member_shard_score(run_id=run.pk, shard=shard)
            lease_renew_or_stop(run.pk)
            _timings_merge(run.pk, {"score": round(time.perf_counter() - score_started, 3)})
        return training_run_complete(run_id=run.pk)
    except RunStopped:
        logger.info("training run %s stopped: it is no longer running (cancelled)", run.pk)
        _run_rows_delete(run.pk)  # what this worker wrote after the cancel
        engine.artifact_delete(run.pk)
        return TrainingRun.objects.get(pk=run.pk)
    except Exception:
        training_run_fail(run_id=run.pk, error=traceback.format_exc())
        raise


def run_is_stale(*, max_age=timedelta(days=1)) -> bool:
    """True when no run is active or the active one is older than `max_age`."""
    active = TrainingRun.objects.filter(is_active=True).values_list("activated_at", flat=True).first()
    return active is None or active < timezone.now() - max_age


def stage_total(run: TrainingRun) -> float:
    """Seconds from start to activation: shard times are inside "score", offers come after."""
    return round(sum(v for k, v in run.timings.items() if not k.startswith(("score_shard_", "after_"))), 3)
