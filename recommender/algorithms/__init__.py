"""Recommendation models and offline evaluation: pure pandas / NumPy / SciPy / scikit-learn, no Django.

Every model has the same contract (``base.Recommender``)::

    from recommender.algorithms import Popularity, UserKNN, ItemKNN, TfidfContent, AssociationRules, Hybrid, EASE
    model = ItemKNN().fit(interactions, items=None)      # returns self
    recs = model.recommend(user_ids, n=10, exclude_seen=True)
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
  contributed most (null for popular / neighbours_liked). Hybrid reports the reason of the model
  that contributed most to each row. Unknown users: Popularity and Hybrid return popular items;
  the other models return no rows for them. ``user_ids=None`` means all training users.
  ``similar_items`` -> columns ``item_id, similar_item_id, score, rank``.

Models (constructor defaults chosen on validation splits, see docs/BENCHMARKS_ENGINE.md)
  Popularity(half_life_days=None, use_weights=False)
  ItemKNN(k=200, shrinkage=10.0, similarity="cosine" | "adjusted_cosine")
  UserKNN(k=100, shrinkage=0.0, similarity="cosine" | "pearson", max_item_users=1000)
  TfidfContent(tokenizer="jieba" | "char", fields=(title, category, brand, description), title_weight=2)
  AssociationRules(min_count=2, min_support=0.0, min_confidence=0.01, max_rules_per_item=100,
                   metric="confidence" | "lift")   -> also ``rules_`` (antecedent, consequent, support,
                   confidence, lift)
  EASE(l2=500.0, max_items=20000)                   -> raises ModelUnavailable above max_items
  PureSVD(factors=32, n_iter=5, random_state=42)    (extra: the low-rank view Hybrid blends in)
  Hybrid(models=None, weights=None, fusion="score" | "rank", tune=False, validation_size=0.2,
         tune_metric="ndcg", k=10, param_grid=None, cold_threshold=3, random_state=42)
Learned attributes end with ``_`` (``similarity_``, ``weights_``, ``popularity_``, ``rules_``,
``components_``, ``best_params_``...). Models pickle (no lambdas kept on them after fit).

Helpers
  data: ``prepare_interactions``, ``build_matrix`` -> ``InteractionMatrix`` (CSR + id indexes both ways)
  evaluation: ``random_split``, ``temporal_split``, ``kfold_split``, ``ranking_metrics``,
  ``evaluate_models(train, test, models, k=10, items=None)``, ``tune_model``
  io: ``load_interactions_csv``, ``load_items_csv`` (raise ``DataFileError`` naming row and column)
  datasets: ``load_online_retail`` (the UCI Online Retail sample -> interactions, items)
  cli: ``run_evaluation`` (what ``manage.py evaluate_recommender`` calls)
"""
from .base import Recommender
from .data import InteractionMatrix, build_matrix, prepare_interactions
from .evaluation import (evaluate_models, kfold_split, random_split, ranking_metrics, temporal_split,
                         tune_model)
from .hybrid import Hybrid
from .models import (EASE, AssociationRules, ItemKNN, ModelUnavailable, Popularity, PureSVD, TfidfContent,
                     UserKNN)

__all__ = [
    "Recommender", "Popularity", "UserKNN", "ItemKNN", "TfidfContent", "AssociationRules", "EASE", "PureSVD", "Hybrid",
    "ModelUnavailable", "InteractionMatrix", "build_matrix", "prepare_interactions", "evaluate_models",
    "random_split", "temporal_split", "kfold_split", "ranking_metrics", "tune_model",
]
