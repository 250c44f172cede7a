"""A training run's life: lock, load, evaluate, gate, fit, write top-N tables, score shards, activate."""
from __future__ import annotations

import csv
import io
import json
import logging
import operator
import subprocess
import time
import traceback
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
from core.errors import DomainError
from shop.models import Event, Product

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
POPULAR_LENGTH = 50
SEGMENT_LENGTH = 20
AGE_BANDS = ((0, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, 200, "55+"))
VIEW_KINDS = (Event.Kind.VIEW, Event.Kind.CART_ADD, Event.Kind.FAVOURITE)


class TrainingAlreadyRunning(DomainError):
    def __init__(self, run_id):
        super().__init__(_("已有训练正在进行（#%(id)s）。") % {"id": run_id}, code="training_running")
        self.run_id = run_id


def code_version() -> str:
    """git describe of the deployed tree, else a VERSION file, else "unknown"."""
    base = Path(settings.BASE_DIR)
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=base,
                             capture_output=True, text=True, timeout=5)
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
    ttl = timedelta(seconds=settings.RECOMMENDER_LOCK_TTL)
    dead = []
    with transaction.atomic():
        for stale in TrainingRun.objects.select_for_update().filter(
                status=TrainingRun.Status.RUNNING, lease_expires_at__lt=now):
            stale.status = TrainingRun.Status.FAILED
            stale.finished_at = now
            stale.error = "lease expired: the worker running it died or was killed; marked failed by run start"
            stale.save(update_fields=["status", "finished_at", "error"])
            dead.append(stale.pk)
            logger.warning("training run %s: lease expired, marked failed", stale.pk)
        try:
            with transaction.atomic():
                run = TrainingRun.objects.create(
                    status=TrainingRun.Status.RUNNING, trigger=trigger, parameters=parameters or {},
                    lease_expires_at=now + ttl, code_version=code_version())
        except IntegrityError:
            running = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).values_list("pk", flat=True)
            raise TrainingAlreadyRunning(running.first()) from None
    for run_id in dead:  # its partial rows were never visible; drop them now
        _run_rows_delete(run_id)
        engine.artifact_delete(run_id)
    return run


def _lease_extend(run_id: int) -> None:
    TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(
        lease_expires_at=timezone.now() + timedelta(seconds=settings.RECOMMENDER_LOCK_TTL))


def training_run_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed with its error; the active run keeps serving, partial rows are dropped."""
    with transaction.atomic():
        updated = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(
            status=TrainingRun.Status.FAILED, finished_at=timezone.now(), error=error[:10000])
    if updated:
        _run_rows_delete(run_id)
        engine.artifact_delete(run_id)


def _run_rows_delete(run_id: int) -> None:
    for model in (MemberRecommendation, ProductSimilarity, BoughtTogetherRule, PopularProduct,
                  MemberCategoryPrediction):
        model.objects.filter(run_id=run_id).delete()


@contextmanager
def _stage(timings: dict, name: str, progress=None):
    if progress:
        progress(name)
    start = time.perf_counter()
    yield
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - start, 3)


def _timings_merge(run_id: int, extra: dict) -> None:
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        run.timings = {**run.timings, **extra}
        run.save(update_fields=["timings"])


# -- prepare: everything up to the member scoring ------------------------------------------------
def training_run_prepare(*, run_id: int, model_names=None, progress=None) -> bool:
    """Load, evaluate, gate, fit and write the product-level tables. False when the gate rejects.

    Nothing written here is visible to pages until training_run_activate flips the run active.
    """
    run = TrainingRun.objects.get(pk=run_id)
    timings: dict = {}
    names = engine.available_models(model_names or run.parameters.get("models"))
    with _stage(timings, "load", progress):
        interactions = interactions_frame()
        items = items_frame()
    sizes = {"events": int(len(interactions)), "members": int(interactions["user_id"].nunique()),
             "products": int(len(items)), "products_with_events": int(interactions["item_id"].nunique())}
    metrics: dict = {}
    evaluated: dict = {}
    if len(interactions):
        with _stage(timings, "evaluate", progress):
            metrics, evaluated = engine.models_evaluate(interactions, items, names)
    serving = engine.serving_model_choose(metrics, names) if len(interactions) else "popularity"
    passed, reason = _gate(metrics, serving)
    run.data_sizes, run.metrics, run.serving_model = sizes, metrics, serving
    run.gate_passed, run.gate_reason = passed, reason
    run.timings = timings
    if not passed:
        run.status, run.finished_at = TrainingRun.Status.REJECTED, timezone.now()
        run.save()
        logger.warning("training run %s rejected: %s", run_id, reason)
        return False
    run.save()
    _lease_extend(run_id)

    list_models = _list_models(serving, names) if len(interactions) else []
    with _stage(timings, "fit", progress):
        fitted = engine.models_fit(list_models, interactions, items, tuned=evaluated)
    with _stage(timings, "similar", progress):
        _similarities_write(run_id, interactions, items)
        _rules_write(run_id, interactions)
    with _stage(timings, "popular", progress):
        _popular_write(run_id, interactions, items)
    member_ids = sorted(int(u) for u in fitted[serving].user_ids_) if fitted else []
    shards = min(settings.RECOMMENDER_SHARDS, max(1, len(member_ids) // 200)) if member_ids else 0
    with _stage(timings, "persist", progress):
        if fitted:
            engine.artifact_save(run_id, {
                "models": fitted, "member_ids": member_ids, "serving": serving,
                "item_category": dict(zip(items["item_id"].astype(int), items["category_id"].astype(int)))})
    run.parameters = {**run.parameters, "models": names, "list_models": list_models}
    run.data_sizes = {**sizes, "lists_for_members": len(member_ids)}
    run.shards_total = shards
    run.timings = timings
    run.save()
    _lease_extend(run_id)
    return True


def _gate(metrics: dict, serving: str) -> tuple[bool, str]:
    """Refuse a run whose precision@k fell by more than the allowed share against the active run."""
    key = f"{engine.GATE_METRIC}@{engine.EVAL_K}"
    new = metrics.get(serving, {}).get(key)
    active = TrainingRun.objects.filter(is_active=True).first()
    old = active.metrics.get(active.serving_model, {}).get(key) if active else None
    drop = settings.RECOMMENDER_GATE_MAX_DROP
    if old is None:
        return True, f"no active run to compare with; {serving} {key}={new}"
    if new is None:
        return False, f"no {key} for {serving}; active run #{active.pk} has {old:.4f}"
    floor = old * (1 - drop)
    if new < floor:
        return False, (f"{serving} {key}={new:.4f} is below {floor:.4f} (active run #{active.pk}: "
                       f"{old:.4f}, allowed drop {drop:.0%})")
    return True, f"{serving} {key}={new:.4f} vs active run #{active.pk} {old:.4f} (allowed drop {drop:.0%})"


def _list_models(serving: str, names) -> list[str]:
    """The serving model plus any model a running experiment serves to one of its arms."""
    wanted = [serving]
    for arms in Experiment.objects.filter(is_running=True).values_list("arms", flat=True):
        for arm in arms or []:
            model = arm.get("model")
            if model in names and model not in wanted:
                wanted.append(model)
    return wanted


def _similar_frame(model, item_ids) -> pd.DataFrame:
    return model.similar_items(item_ids, n=engine.SIMILAR_LENGTH)


def _similarities_write(run_id, interactions, items) -> None:
    """also viewed (views, carts, favourites), also bought (purchases), similar content (text)."""
    sources = {
        ProductSimilarity.Kind.ALSO_VIEWED: interactions[interactions["kind"].isin(VIEW_KINDS)],
        ProductSimilarity.Kind.ALSO_BOUGHT: interactions[interactions["kind"] == Event.Kind.PURCHASE],
    }
    frames = []
    for kind, part in sources.items():
        if part["user_id"].nunique() < 2:
            continue
        model = engine.model_build("itemknn").fit(part[["user_id", "item_id", "weight"]])
        frames.append(_similar_frame(model, model.item_ids_).assign(kind=kind.value))
    if len(items):
        try:
            content = engine.TfidfContent().fit(
                interactions[["user_id", "item_id", "weight"]], items=items)
            frames.append(_similar_frame(content, items["item_id"]).assign(
                kind=ProductSimilarity.Kind.SIMILAR_CONTENT.value))
        except ValueError as exc:  # ModelUnavailable: no product text
            logger.warning("content similarity skipped: %s", exc)
    rows = (ProductSimilarity(run_id=run_id, product_id=int(r.item_id), similar_product_id=int(r.similar_item_id),
                              kind=r.kind, score=float(r.score), rank=int(r.rank))
            for frame in frames for r in frame.itertuples(index=False))
    _bulk_write(ProductSimilarity, rows)


def _rules_write(run_id, interactions) -> None:
    baskets = interactions[interactions["basket_id"].notna()][["user_id", "item_id", "basket_id"]]
    if baskets["basket_id"].nunique() < 2:
        return
    model = engine.AssociationRules(min_count=2, max_rules_per_item=engine.SIMILAR_LENGTH)
    model.fit(baskets.astype({"basket_id": "int64"}))
    rows = (BoughtTogetherRule(run_id=run_id, antecedent_id=int(r.antecedent), consequent_id=int(r.consequent),
                               support=float(r.support), confidence=float(r.confidence), lift=float(r.lift))
            for r in model.rules_.itertuples(index=False))
    _bulk_write(BoughtTogetherRule, rows)


def _age_band(birth_date, today) -> str:
    if pd.isna(birth_date):
        return ""
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    return next((label for low, high, label in AGE_BANDS if low <= age < high), "")


def _top_by_segment(frame: pd.DataFrame, length: int) -> pd.DataFrame:
    scores = frame.groupby(["segment", "item_id"], as_index=False)["weight"].sum()
    scores = scores.sort_values(["segment", "weight", "item_id"], ascending=[True, False, True])
    scores["rank"] = scores.groupby("segment").cumcount() + 1
    return scores[scores["rank"] <= length]


def _popular_write(run_id, interactions, items) -> None:
    """Cold-start lists: overall, per category, and per profile segment (age band × gender)."""
    from members.models import Profile

    if len(interactions):
        # Recent behaviour counts more: halve the weight every 30 days.
        age_days = (interactions["timestamp"].max() - interactions["timestamp"]) / 86400.0
        weighted = interactions.assign(weight=interactions["weight"] * np.power(0.5, age_days / 30.0))
        weighted = weighted[["user_id", "item_id", "weight"]]
    else:  # no behaviour yet: best sellers, then newest
        ranked = list(Product.objects.filter(is_active=True).order_by("-sales_count", "-created_at")
                      .values_list("id", flat=True)[:500])
        weighted = pd.DataFrame({"user_id": 0, "item_id": ranked,
                                 "weight": np.linspace(1.0, 0.5, num=len(ranked)) if ranked else []})
    category = items.set_index("item_id")["category_id"]
    parts = [weighted.assign(segment="all")]
    with_cat = weighted.assign(segment="category:" + weighted["item_id"].map(category).astype("Int64").astype(str))
    parts.append(with_cat[with_cat["segment"] != "category:<NA>"])
    profiles = pd.DataFrame.from_records(
        list(Profile.objects.values_list("user_id", "gender", "birth_date")),
        columns=["user_id", "gender", "birth_date"])
    if len(profiles) and len(interactions):
        today = timezone.localdate()
        profiles["band"] = [_age_band(b, today) for b in profiles["birth_date"]]
        profiles = profiles[(profiles["band"] != "") | (profiles["gender"].fillna("") != "")]
        profiles["segment"] = "profile:" + profiles["band"] + ":" + profiles["gender"].fillna("")
        parts.append(weighted.merge(profiles[["user_id", "segment"]], on="user_id"))
    frame = pd.concat(parts, ignore_index=True)
    top = pd.concat([
        _top_by_segment(frame[frame["segment"] == "all"], POPULAR_LENGTH),
        _top_by_segment(frame[frame["segment"] != "all"], SEGMENT_LENGTH),
    ])
    rows = (PopularProduct(run_id=run_id, segment=r.segment, product_id=int(r.item_id),
                           score=float(r.weight), rank=int(r.rank)) for r in top.itertuples(index=False))
    _bulk_write(PopularProduct, rows)


def _bulk_write(model, rows) -> int:
    """Write model instances from a generator in batches (constant memory); returns how many.

    PostgreSQL gets COPY from an in-memory CSV (several times faster than INSERTs for the
    hundreds of thousands of top-N rows a run writes); other databases get bulk_create.
    """
    write = _batch_writer()
    written, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            written += write(model, batch)
            batch = []
    if batch:
        written += write(model, batch)
    return written


def _batch_writer():
    return _copy_batch if connection.vendor == "postgresql" else _insert_batch


def _insert_batch(model, batch) -> int:
    model.objects.bulk_create(batch, batch_size=BATCH_SIZE)
    return len(batch)


# Field types whose Python value is what COPY's CSV needs (csv writes None as an empty field).
_PLAIN_COPY_FIELDS = ("AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "FloatField",
                      "ForeignKey", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
                      "SlugField", "SmallIntegerField", "TextField")


def _copy_batch(model, batch) -> int:
    """COPY one batch. CSV's unquoted empty field is NULL; FORCE_NOT_NULL makes it an empty string
    in the NOT NULL columns (so "" stays "", None stays NULL)."""
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.pk]
    quote = connection.ops.quote_name
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if all(f.get_internal_type() in _PLAIN_COPY_FIELDS for f in fields):
        # Plain values straight from the instances: the per-field preparation below costs more
        # than the COPY itself.
        values = operator.attrgetter(*(f.attname for f in fields))
        writer.writerows(values(obj) for obj in batch)
    else:
        for obj in batch:
            writer.writerow([_csv_value(f.get_db_prep_save(f.pre_save(obj, True), connection)) for f in fields])
    buffer.seek(0)
    not_null = [quote(f.column) for f in fields if not f.null]
    sql = (f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN "
           f"WITH (FORMAT csv{', FORCE_NOT_NULL (' + ', '.join(not_null) + ')' if not_null else ''})")
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, buffer)
    return len(batch)


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


# -- member scoring, one shard at a time ---------------------------------------------------------
def member_shard_score(*, run_id: int, shard: int) -> bool:
    """Write the member lists of one shard; True when this was the last shard to finish."""
    started = time.perf_counter()
    run = TrainingRun.objects.get(pk=run_id)
    if run.status != TrainingRun.Status.RUNNING:
        logger.info("run %s is %s; shard %s skipped", run_id, run.status, shard)
        return False
    payload = engine.artifact_load(run_id)
    member_ids = payload["member_ids"][shard::run.shards_total]
    item_category = payload["item_category"]
    # A redelivered shard (acks_late after a crash) starts from a clean slate.
    MemberRecommendation.objects.filter(run_id=run_id, user_id__in=member_ids).delete()
    MemberCategoryPrediction.objects.filter(run_id=run_id, user_id__in=member_ids).delete()
    for name, model in payload["models"].items():
        recs = model.recommend(member_ids, n=engine.LIST_LENGTH, exclude_seen=True)
        _bulk_write(MemberRecommendation, _recommendation_rows(run_id, name, recs))
        if name == payload["serving"]:
            _bulk_write(MemberCategoryPrediction, _category_rows(run_id, recs, item_category))
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        if shard not in run.shards_completed:
            run.shards_completed = sorted([*run.shards_completed, shard])
        run.timings = {**run.timings,
                       f"score_shard_{shard}": round(time.perf_counter() - started, 3)}
        run.lease_expires_at = timezone.now() + timedelta(seconds=settings.RECOMMENDER_LOCK_TTL)
        run.save(update_fields=["shards_completed", "timings", "lease_expires_at"])
        return len(run.shards_completed) >= run.shards_total


def _recommendation_rows(run_id, model_name, recs: pd.DataFrame):
    reason_items = recs["reason_item_id"] if "reason_item_id" in recs.columns else pd.Series(pd.NA, index=recs.index)
    for user_id, item_id, score, rank, reason, reason_item in zip(
            recs["user_id"], recs["item_id"], recs["score"], recs["rank"], recs["reason"], reason_items):
        yield MemberRecommendation(
            run_id=run_id, user_id=int(user_id), product_id=int(item_id), model=model_name,
            score=float(score), rank=int(rank), reason=str(reason or "")[:40],
            reason_product_id=None if pd.isna(reason_item) else int(reason_item))


def _category_rows(run_id, recs: pd.DataFrame, item_category: dict):
    if not len(recs):
        return
    frame = recs[["user_id", "item_id", "score"]].copy()
    frame["category_id"] = frame["item_id"].map(item_category)
    frame = frame.dropna(subset=["category_id"])
    totals = frame.groupby(["user_id", "category_id"], as_index=False)["score"].sum()
    totals["share"] = totals["score"] / totals.groupby("user_id")["score"].transform("sum")
    best = totals.sort_values(["user_id", "score"], ascending=[True, False]).drop_duplicates("user_id")
    for r in best.itertuples(index=False):
        yield MemberCategoryPrediction(run_id=run_id, user_id=int(r.user_id), category_id=int(r.category_id),
                                       score=float(r.share) if np.isfinite(r.share) else 0.0)


# -- activation ----------------------------------------------------------------------------------
def training_run_activate(*, run_id: int) -> TrainingRun:
    """Check the run is complete, then make it the active one in one transaction and prune old runs."""
    started = time.perf_counter()
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
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
        transaction.on_commit(_serving_state_forget)
    training_runs_prune()
    return run


def training_run_complete(*, run_id: int, offers_issue=None) -> TrainingRun:
    """Activate the run, then what follows activation: the same steps whichever path ran it.

    `offers_issue(run_id)` issues the personal offers of the newly active run (the Celery path
    passes a task's `.delay`); by default they are issued in this process. The run is active and
    serving by then, so a failure to issue offers is logged, not raised (offers are issued once
    per prediction: the next call picks up what was left).
    """
    run = training_run_activate(run_id=run_id)
    if run.is_active:
        if offers_issue is None:
            from recommender.services.offers import personal_offers_issue

            def offers_issue(active_run_id):
                return personal_offers_issue(run_id=active_run_id)
        started = time.perf_counter()
        try:
            offers_issue(run.pk)
        except Exception:
            logger.exception("run %s is active but its personal offers were not issued", run.pk)
        # After activation, so not part of the run's own duration (stage_total leaves it out).
        _timings_merge(run.pk, {"after_offers": round(time.perf_counter() - started, 3)})
        run.refresh_from_db()
    return run


def _serving_state_forget():
    from recommender.selectors import serving_state_forget  # selectors import this module

    serving_state_forget()


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


# -- the whole run in this process ---------------------------------------------------------------
def training_run_execute(*, trigger: str = "manual", model_names=None, progress=None,
                         shard_runner=None) -> TrainingRun:
    """Start, prepare and score (in-process unless `shard_runner(run_id, shards)` fans out).

    Any error marks the run failed with its traceback and re-raises; the active run keeps serving.
    """
    run = training_run_start(trigger=trigger, parameters={"models": list(model_names or engine.DEFAULT_MODELS)})
    try:
        if not training_run_prepare(run_id=run.pk, model_names=model_names, progress=progress):
            return TrainingRun.objects.get(pk=run.pk)
        run.refresh_from_db()
        if shard_runner is not None and run.shards_total:
            shard_runner(run.pk, run.shards_total)
            return TrainingRun.objects.get(pk=run.pk)
        score_started = time.perf_counter()
        if progress:
            progress("score")
        for shard in range(run.shards_total):
            member_shard_score(run_id=run.pk, shard=shard)
        _timings_merge(run.pk, {"score": round(time.perf_counter() - score_started, 3)})
        return training_run_complete(run_id=run.pk)
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

