"""Which engine models a run trains, how they are evaluated, and how fitted models are stored."""
from __future__ import annotations

import os
from pathlib import Path

import joblib
import pandas as pd
from django.conf import settings

from recommender.algorithms import (EASE, AssociationRules, Hybrid, ItemKNN, Popularity, PureSVD,
                                    TfidfContent, UserKNN)
from recommender.algorithms.evaluation import METRICS, evaluate_models, random_split

# Length of stored lists: longer than any block so read-time filters (stock, bought) leave enough.
LIST_LENGTH = 30
SIMILAR_LENGTH = 20
EVAL_K = 10
GATE_METRIC = "precision"  # at EVAL_K

# name → factory of an unfitted model. Every one is evaluated on medium data within the nightly
# budget (docs/BENCHMARKS.md "Recommendations in production").
MODEL_FACTORIES = {
    "popularity": lambda: Popularity(half_life_days=30),
    "itemknn": ItemKNN,
    "userknn": UserKNN,
    "ease": EASE,
    "puresvd": PureSVD,
    "tfidf": TfidfContent,
    "rules": AssociationRules,
    "hybrid": Hybrid,
}
DEFAULT_MODELS = ("popularity", "itemknn", "userknn", "ease", "puresvd", "tfidf", "rules", "hybrid")
# Preference order for the list served to members when metrics tie or are missing.
SERVING_PREFERENCE = ("hybrid", "ease", "itemknn", "puresvd", "userknn", "tfidf", "rules", "popularity")
# Hybrid's component name → our model of the same kind and defaults: a Hybrid trained next to them
# blends those fitted models (Hybrid.from_fitted) instead of fitting them a second time.
HYBRID_COMPONENTS = {"itemknn": "itemknn", "userknn": "userknn", "ease": "ease", "svd": "puresvd",
                     "content": "tfidf", "rules": "rules"}


def available_models(names=None) -> list[str]:
    names = list(names or DEFAULT_MODELS)
    unknown = [n for n in names if n not in MODEL_FACTORIES]
    if unknown:
        raise ValueError(f"unknown models: {', '.join(unknown)}; choose from {', '.join(MODEL_FACTORIES)}")
    return names


def model_build(name):
    return MODEL_FACTORIES[name]()


class _HybridOfSiblings:
    """Hybrid for evaluate_models: blends the sibling models already fitted on the same training
    data (evaluate_models fits models in order, so hybrid goes last); components no sibling
    provides are fitted here with Hybrid's defaults."""

    def __init__(self, siblings: dict):
        self.siblings = siblings

    def fit(self, interactions, items=None):
        self.model_ = hybrid_from_siblings(self.siblings, interactions, items)
        return self

    def recommend(self, *args, **kwargs):
        return self.model_.recommend(*args, **kwargs)


def hybrid_from_siblings(siblings: dict, interactions, items=None):
    """A fitted Hybrid reusing fitted `siblings` ({our name: model}) as its components."""
    from recommender.algorithms.hybrid import DEFAULT_WEIGHTS, default_components

    wanted = [part for part, weight in DEFAULT_WEIGHTS.items() if weight > 0 and part != "popularity"]
    defaults = default_components(items)
    components = {}
    for part in wanted:
        model = siblings.get(HYBRID_COMPONENTS.get(part))
        if model is None or not hasattr(model, "data_"):
            if part not in defaults:
                continue
            try:
                model = defaults[part].fit(interactions, items=items)
            except ValueError:  # ModelUnavailable (EASE over its size limit, content without text)
                model = None
        components[part] = model
    try:
        return Hybrid.from_fitted(components)
    except ValueError:  # nothing fitted, or siblings fitted on other users/items: fit from scratch
        return Hybrid().fit(interactions, items=items)


def models_build_for_evaluation(names) -> dict:
    """{name: unfitted model}, hybrid last and wired to reuse its fitted siblings."""
    models = {n: model_build(n) for n in names if n != "hybrid"}
    if "hybrid" in names:
        models["hybrid"] = _HybridOfSiblings(models)
    return models


def models_fit(names, interactions, items) -> dict:
    """{name: fitted model} for the lists to write; a Hybrid reuses the other fitted models."""
    fitted = {n: model_build(n).fit(interactions, items=items) for n in names if n != "hybrid"}
    if "hybrid" in names:
        fitted["hybrid"] = hybrid_from_siblings(fitted, interactions, items)
    return fitted


def models_evaluate(interactions: pd.DataFrame, items: pd.DataFrame, names) -> dict:
    """Per-user random holdout, same protocol for every model: {name: {metric@k: value, ...}}."""
    train, test = random_split(interactions, test_size=0.2, random_state=42)
    if not len(test):
        return {name: {"error": "not enough data for a holdout"} for name in names}
    table = evaluate_models(train, test, models_build_for_evaluation(names), k=EVAL_K, items=items)
    out = {}
    for name, row in table.iterrows():
        metrics = {}
        for column, value in row.items():
            if column == "error":
                if value:
                    metrics["error"] = str(value)
                continue
            if pd.notna(value):
                key = f"{column}@{EVAL_K}" if column in METRICS else column
                metrics[key] = round(float(value), 6)
        out[str(name)] = metrics
    return out


def serving_model_choose(metrics: dict, names) -> str:
    """The personalised model with the best precision@k; popularity only when nothing else works."""
    key = f"{GATE_METRIC}@{EVAL_K}"
    personal = [n for n in names if n != "popularity" and key in metrics.get(n, {})]
    if personal:
        return max(personal, key=lambda n: (metrics[n][key], -SERVING_PREFERENCE.index(n)))
    return "popularity"


def artifact_path(run_id: int) -> Path:
    return Path(settings.RECOMMENDER_ARTIFACT_DIR) / f"run-{run_id}.joblib"


def artifact_save(run_id: int, payload: dict) -> Path:
    """Write atomically (temp file then rename) so a shard never loads half a file."""
    path = artifact_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(payload, tmp, compress=0)
    os.replace(tmp, path)
    return path


def artifact_load(run_id: int) -> dict:
    return joblib.load(artifact_path(run_id))


def artifact_delete(run_id: int) -> None:
    artifact_path(run_id).unlink(missing_ok=True)
