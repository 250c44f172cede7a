"""Recommendation models and offline evaluation: pure pandas / NumPy / SciPy / scikit-learn, no Django.

Every model has the same contract (``base.Recommender``)::

    from recommender.algorithms import Popularity, UserKNN, ItemKNN, TfidfContent, AssociationRules, Hybrid, EASE, ALS
    model = ItemKNN().fit(interactions, items=None)      # returns self
    recs = model.recommend(user_ids, n=10, exclude_seen=True)
    fresh = model.recommend_histories({"guest-1": {item_id: weight, ...}}, n=10, exclude={"guest-1": [...]})
    sims = model.similar_items(item_ids, n=10)

Inputs
  ``interactions``: DataFrame with ``user_id``, ``item_id`` and optionally ``weight``, ``event``
  (view / cart / favourite / purchase / rating), ``rating``, ``timestamp``, ``basket_id``. Ids may be
  ints or strings. ``prepare_interactions`` turns rows into one weight per (user, item): explicit
  ``weight``; else event weights (view 1, cart 3, favourite 4, purchase 5, rating events by their
  stars); else 1 per row (a bare ``rating`` column is implicit feedback unless ``use_rating=True``).
  Duplicates and rows with missing ids are dropped; with ``items`` given, unknown items too.
  ``items``: optional DataFrame with ``item_id`` and text columns ``title``, ``category``, ``brand``,
  ``description`` (needed by TfidfContent; lets Hybrid recommend for thin histories).

Outputs
  ``recommend`` -> columns ``user_id, item_id, score, rank, reason, reason_item_id``: rank 1 is
  best, at most n rows per user, never an item the user has in ``interactions`` when
  ``exclude_seen``. ``reason`` is a code: ``similar_to_seen`` (ItemKNN, EASE), ``neighbours_liked``
  (UserKNN), ``content_match`` (TfidfContent), ``bought_together`` (AssociationRules), ``popular``
  (Popularity; any model's answer for unknown users); ``reason_item_id`` is the seen item that
  contributed most to that item's score, over ALL of the history (null for popular /
  neighbours_liked; for ALS/BPR the largest share in the fold-in solve). Hybrid reports the reason
  (and reason item) of the component that contributed most to each row. Unknown users: Popularity and Hybrid return popular items;
  the other models return no rows for them. ``user_ids=None`` means all training users.
  ``similar_items`` -> columns ``item_id, similar_item_id, score, rank``.
  ``recommend_histories(histories, n=10, exclude=None)`` -> the columns of ``recommend`` with
  ``user_id`` = the key: fold-in of fresh histories (key -> {item_id: weight}; a member's current
  history or a guest's session) into the fitted model, scored exactly as a training user is
  (one code path: ``_scores(rows)`` = ``_scores_x(matrix[rows])``): ItemKNN x S, EASE x B, PureSVD
  x V V', content profile, rules, popularity; UserKNN finds the history's neighbours among the
  training users; ALS solves the user's factors (implicit's ``recalculate_user``), BPR runs its
  updates on the user's factors alone; Hybrid blends those with its weights and cold-start rule.
  Unknown item ids and weights <= 0 are ignored; the history's items and ``exclude[key]`` are never
  recommended; a history with no known item gets what an unknown user gets.

Models (constructor defaults chosen on validation splits, see docs/BENCHMARKS_ENGINE.md)
  Popularity(half_life_days=None, use_weights=False)       cold-start fallback; recency-weighted with a half-life
  ItemKNN(k=200, shrinkage=10.0, similarity="cosine" | "adjusted_cosine")
  UserKNN(k=100, shrinkage=0.0, similarity="cosine" | "pearson", max_item_users=1000, random_state=42)
  TfidfContent(tokenizer="jieba" | "char", fields=("title", "category", "brand", "description"),
               title_weight=2, min_df=1, max_df=0.5, sublinear_tf=True)     needs ``items``
  AssociationRules(min_count=2, min_support=0.0, min_confidence=0.01, max_rules_per_item=100,
                   metric="confidence" | "lift")   ``rules_``: antecedent, consequent, support, confidence, lift
  EASE(l2=500.0, max_items=20000)                  raises ModelUnavailable above max_items
  PureSVD(factors=32, n_iter=5, random_state=42)   extra low-rank model that Hybrid blends in
  ALS(factors=64, regularization=0.05, alpha=1.0, iterations=15, random_state=42, num_threads=1)
  BPR(factors=64, learning_rate=0.05, regularization=0.01, iterations=100, random_state=42, num_threads=1)
                                                   the `implicit` library's CPU models (pinned 0.7.2)
  Hybrid(models=None, weights=None, fusion="score" | "rank", tune=False, validation_size=0.2,
         tune_metric="ndcg", k=10, param_grid=None, max_tune_users=5000, cold_threshold=3,
         cold_content_boost=3.0, cold_content_weight=0.3, random_state=42, n_jobs=2)
    ``models``: dict name -> unfitted model (default popularity, itemknn, userknn, ease, svd, als, bpr,
    rules, + content when items are given); ``weights`` default ``hybrid.DEFAULT_WEIGHTS`` (ease 1, svd 1,
    itemknn 0.5, content 0.5, popularity 0.05; userknn/rules/als/bpr 0 = not fitted). ``tune=True`` holds out
    part of train, grid-searches each component (``hybrid.DEFAULT_GRID``) and the blend weights,
    then refits on all of train. Learned: ``components_``, ``weights_``, ``best_params_``,
    ``tuning_`` (trial table), ``unavailable_`` (name -> why, e.g. EASE over max_items).
    Unknown users get popularity; users with < cold_threshold items get more content weight.
    ``Hybrid.from_fitted(components, weights=None, **params)``: a fitted Hybrid blending models
    already fitted on the same users/items (nothing refitted; same recommendations as
    ``Hybrid(weights=...).fit`` with the same component settings); no tuning.
    ``recommend`` splits users over ``n_jobs`` threads (same rows, same order).
  All models: ``fit(interactions, items=None) -> self``; ``fit_data(TrainingData, items)`` to share
  one prepared matrix; ``recommend(user_ids=None, n=10, exclude_seen=True)``;
  ``recommend_histories(histories, n=10, exclude=None)``; ``similar_items(item_ids, n=10)``
  (Popularity answers with popular items, UserKNN with item cosine, ALS/BPR with factor cosine).
Every model is a scikit-learn ``BaseEstimator``: the constructor stores its parameters unchanged, so
``get_params``, ``set_params``, ``sklearn.base.clone`` and the repr work (``Hybrid.from_tuned`` is a
clone with the tuned parameters set). Learned attributes end with ``_`` (``data_`` with
``matrix``/``users``/``items``, ``user_ids_``, ``item_ids_``, ``similarity_``, ``weights_``,
``popularity_``, ``item_vectors_``, ``item_factors_``...); ``recommend`` and ``similar_items`` on an
unfitted model raise ``sklearn.exceptions.NotFittedError`` (a ValueError). Reasons are computed from
what scoring a batch returns (``base.BatchScores``: scores, and for Hybrid each component's share).
Models pickle. ``ModelUnavailable`` (a ValueError) means "cannot fit on this data", not a bug.
Deterministic for a given ``random_state`` and input order.

Helpers
  data: ``prepare_interactions``, ``build_matrix`` -> ``InteractionMatrix`` (CSR + id indexes both ways)
  evaluation: ``random_split(df, test_size=0.25, random_state=42)``, ``temporal_split(df, n_last=1)``,
  ``kfold_split(df, n_splits=5)``, ``relevant_pairs``, ``ranking_metrics(recs, relevant, k, n_items)``,
  ``evaluate_models(train, test, models: dict, k=10, items=None) -> DataFrame`` (index model; columns
  precision, recall, f1, ndcg, map, hit_rate, coverage, n_users, fit_seconds, recommend_seconds,
  error), ``tune_model(make_model, param_grid, train, ...)`` (validation split carved from train)
  io: ``load_interactions_csv``, ``load_items_csv`` (raise ``DataFileError`` naming row and column)
  datasets: ``load_online_retail`` (the UCI Online Retail sample -> interactions, items)
  cli: ``run_evaluation`` (what ``manage.py evaluate_recommender`` calls)
  batch: ``recommend_many(models: dict, user_ids=None, n=10, n_jobs=2, backend="thread" | "fork")``
  -> {name: recommend frame}: every model's lists in one pass over user batches; a Hybrid built with
  ``from_fitted`` from the same models (listed after them) reuses their batch scores (handed over in a
  ``base.ScoreCache`` per batch).
"""

from .base import Recommender
from .data import InteractionMatrix, build_matrix, prepare_interactions
from .evaluation import (
    evaluate_models,
    kfold_split,
    random_split,
    ranking_metrics,
    temporal_split,
    tune_model,
)
from .factorization import ALS, BPR
from .hybrid import Hybrid
from .models import (
    EASE,
    AssociationRules,
    ItemKNN,
    ModelUnavailable,
    Popularity,
    PureSVD,
    TfidfContent,
    UserKNN,
)

__all__ = [
    "Recommender",
    "Popularity",
    "UserKNN",
    "ItemKNN",
    "TfidfContent",
    "AssociationRules",
    "EASE",
    "PureSVD",
    "ALS",
    "BPR",
    "Hybrid",
    "ModelUnavailable",
    "InteractionMatrix",
    "build_matrix",
    "prepare_interactions",
    "evaluate_models",
    "random_split",
    "temporal_split",
    "kfold_split",
    "ranking_metrics",
    "tune_model",
]
