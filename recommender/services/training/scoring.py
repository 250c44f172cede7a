"""Member scoring, one shard at a time: each member's top-N lists and predicted next category."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
from django.db import transaction

from core.locks import lock_row
from recommender import engine
from recommender.models import MemberCategoryPrediction, MemberRecommendation, TrainingRun
from recommender.services.training.bulk import rows_write
from recommender.services.training.lease import lease_heartbeat, lease_until
from recommender.serving import members_actions, reasons_apply, variety_rerank
from shop.models import Event, Product

logger = logging.getLogger(__name__)


def member_shard_score(*, run_id: int, shard: int) -> bool:
    """Write the member lists of one shard; True when this was the last shard to finish."""
    started = time.perf_counter()
    run = TrainingRun.objects.get(pk=run_id)
    if run.status != TrainingRun.Status.RUNNING:
        logger.info("run %s is %s; shard %s skipped", run_id, run.status, shard)
        return False
    with lease_heartbeat(run_id):
        payload = engine.artifact_load(run_id)
        member_ids = payload["member_ids"][shard :: run.shards_total]
        item_category = payload["item_category"]
        # A redelivered shard (acks_late after a crash) starts from a clean slate.
        MemberRecommendation.objects.filter(run_id=run_id, user_id__in=member_ids).delete()
        MemberCategoryPrediction.objects.filter(run_id=run_id, user_id__in=member_ids).delete()
        finish = _list_finisher(member_ids, item_category)
        for name, model in payload["models"].items():
            # Twice the stored length: the variety cap needs other categories to choose from.
            candidates = model.recommend(member_ids, n=2 * engine.LIST_LENGTH, exclude_seen=True)
            rows_write(MemberRecommendation, _recommendation_rows(run_id, name, finish(candidates)))
            if name == payload["serving"]:
                top = candidates[candidates["rank"] <= engine.LIST_LENGTH]
                rows_write(MemberCategoryPrediction, _category_rows(run_id, top, item_category))
    with transaction.atomic():
        run = lock_row(TrainingRun.objects.all(), run_id)
        if run.status != TrainingRun.Status.RUNNING:  # cancelled while this shard worked
            logger.info("run %s is %s; shard %s not counted", run_id, run.status, shard)
            return False
        if shard not in run.shards_completed:
            run.shards_completed = sorted([*run.shards_completed, shard])
        run.timings = {**run.timings, f"score_shard_{shard}": round(time.perf_counter() - started, 3)}
        run.lease_expires_at = lease_until()
        run.save(update_fields=["shards_completed", "timings", "lease_expires_at"])
        return len(run.shards_completed) >= run.shards_total


def _list_finisher(member_ids, item_category):
    """What turns a model's candidates into the stored lists, as the refresh does (serving.py): active
    products only, nothing the member marked "不感兴趣", the variety cap, and reasons naming the
    strongest thing the member really did with the reason product (read once for the shard)."""
    actions, viewers = members_actions(member_ids)
    active = set(Product.objects.filter(is_active=True).values_list("pk", flat=True))
    hidden = set(
        Event.objects.filter(user_id__in=member_ids, kind=Event.Kind.NOT_INTERESTED, product__isnull=False)
        .values_list("user_id", "product_id")
        .distinct()
    )

    def finish(candidates: pd.DataFrame) -> pd.DataFrame:
        if candidates.empty:
            return candidates
        keep = candidates["item_id"].isin(active)
        if hidden:
            pairs = pd.MultiIndex.from_arrays([candidates["user_id"], candidates["item_id"]])
            keep &= ~pairs.isin(list(hidden))
        ranked = variety_rerank(candidates[keep], item_category, length=engine.LIST_LENGTH)
        return reasons_apply(ranked, actions, viewers)

    return finish


def _recommendation_rows(run_id, model_name, recs: pd.DataFrame):
    reason_items = (
        recs["reason_item_id"] if "reason_item_id" in recs.columns else pd.Series(pd.NA, index=recs.index)
    )
    for user_id, item_id, score, rank, reason, reason_item in zip(
        recs["user_id"], recs["item_id"], recs["score"], recs["rank"], recs["reason"], reason_items
    ):
        yield MemberRecommendation(
            run_id=run_id,
            user_id=int(user_id),
            product_id=int(item_id),
            model=model_name,
            score=float(score),
            rank=int(rank),
            reason=str(reason or "")[:40],
            reason_product_id=None if pd.isna(reason_item) else int(reason_item),
        )


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
        yield MemberCategoryPrediction(
            run_id=run_id,
            user_id=int(r.user_id),
            category_id=int(r.category_id),
            score=float(r.share) if np.isfinite(r.share) else 0.0,
        )
