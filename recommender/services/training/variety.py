"""What the served lists look like on the run's own holdout: beyond-accuracy figures and the accuracy cost of variety.

The serving model's lists for the evaluation's test members are re-ranked exactly as the stored lists are
(serving.variety_rerank), then measured: intra-list diversity, category coverage, novelty, long-tail share
and the share of lists over the category cap (diversity.beyond_accuracy), and precision@10 with and
without the re-rank. Stored in the serving model's metrics (run.metrics[serving]["served_list"], read as
TrainingRun.served_list) and shown on the dashboard.
"""

from __future__ import annotations

import logging

import pandas as pd

from recommender import engine
from recommender.algorithms.diversity import beyond_accuracy
from recommender.algorithms.evaluation import ranking_metrics, relevant_pairs
from recommender.serving import BLOCK_SIZE, category_cap, variety_rerank

logger = logging.getLogger(__name__)

SERVED_METRICS_KEY = "served_list"


def served_list_figures(
    *,
    model,
    train: pd.DataFrame,
    items: pd.DataFrame,
    test: pd.DataFrame | None = None,
    relevant: pd.DataFrame | None = None,
    users=None,
    k: int = engine.EVAL_K,
) -> dict:
    """Figures of the block a member sees (BLOCK_SIZE items, capped) for the holdout's members.

    `model` is fitted on `train`; `relevant` (user_id, item_id: held-out items not in train) or `test`
    to derive it from. Never raises: a failure is logged and reported as {"error": ...}.
    """
    try:
        if relevant is None:
            relevant = relevant_pairs(train, test)
        users = pd.unique(relevant["user_id"]) if users is None else users
        if not len(relevant) or not len(users):
            return {"error": "no holdout members"}
        category = items.set_index("item_id")["category_id"]
        # As many candidates as the nightly lists are re-ranked from (scoring.member_shard_score).
        candidates = model.recommend(users, n=2 * engine.LIST_LENGTH, exclude_seen=True)
        plain = candidates[candidates["rank"] <= BLOCK_SIZE]
        cap = category_cap()
        capped = variety_rerank(candidates, category, length=BLOCK_SIZE, cap=cap)
        n_items = int(items["item_id"].nunique())
        plain_precision = ranking_metrics(plain, relevant, k=k, n_items=n_items)["precision"]
        capped_precision = ranking_metrics(capped, relevant, k=k, n_items=n_items)["precision"]
        popularity = train.groupby("item_id")["user_id"].nunique()
        n_categories = int(category.nunique()) or None
        figures = beyond_accuracy(
            capped, category, popularity, n_categories=n_categories, cap=cap or BLOCK_SIZE
        )
        before = beyond_accuracy(
            plain, category, popularity, n_categories=n_categories, cap=cap or BLOCK_SIZE
        )
        return {
            **figures,
            "cap": cap,
            "block": BLOCK_SIZE,
            "k": k,  # precision below is precision@k
            "precision": round(float(capped_precision), 6),
            "precision_without_rerank": round(float(plain_precision), 6),
            "rerank_cost": round(float(plain_precision - capped_precision), 6),
            "over_cap_share_without_rerank": before["over_cap_share"],
            "intra_list_diversity_without_rerank": before["intra_list_diversity"],
        }
    except Exception as exc:  # figures for the dashboard: never a reason for a run to fail
        logger.exception("served-list figures not computed")
        return {"error": str(exc)[:200]}
