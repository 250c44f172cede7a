"""Which engine models a run trains, how they are evaluated, and how fitted models are stored."""
from __future__ import annotations

import os
from pathlib import Path

import joblib
import pandas as pd
# The engine imports these lazily inside fit(), and Hybrid fits components in threads: two threads
# importing scikit-learn at once can see a half-initialised module ("cannot import name 'clone'").
import sklearn.feature_extraction.text  # noqa: F401
import sklearn.utils.extmath  # noqa: F401
from django.conf import settings

from recommender import algorithms
from recommender.algorithms.evaluation import METRICS, evaluate_models, random_split

# Length of stored lists: longer than any block so read-time filters (stock, bought) leave enough.
LIST_LENGTH = 30
SIMILAR_LENGTH = 20
EVAL_K = 10
GATE_METRIC = "precision"  # at EVAL_K


def engine_class(name: str):
    """A model class from the engine's package (or its models module); AttributeError if absent."""
    found = getattr(algorithms, name, None)
    if found is None:
        from recommender.algorithms import models as engine_models
        found = getattr(engine_models, name)
    return found


# name → factory; a model the engine does not provide (yet) is skipped, never a crash.
MODEL_FACTORIES = {
    "popularity": lambda: engine_class("Popularity")(half_life_days=30),
    "itemknn": lambda: engine_class("ItemKNN")(),
    "hybrid": lambda: engine_class("Hybrid")(),
    "ease": lambda: engine_class("EASE")(),
    "userknn": lambda: engine_class("UserKNN")(),
}
DEFAULT_MODELS = ("popularity", "itemknn", "hybrid")
# Preference order for the list served to members when metrics tie or are missing.
SERVING_PREFERENCE = ("hybrid", "ease", "itemknn", "userknn", "popularity")


def available_models(names=None) -> list[str]:
    names = list(names or DEFAULT_MODELS)
    unknown = [n for n in names if n not in MODEL_FACTORIES]
    if unknown:
        raise ValueError(f"unknown models: {', '.join(unknown)}; choose from {', '.join(MODEL_FACTORIES)}")
    out = []
    for name in names:
        try:
            MODEL_FACTORIES[name]()
        except AttributeError:  # the engine does not have this class yet
            continue
        out.append(name)
    return out


def model_build(name):
    return MODEL_FACTORIES[name]()


def models_evaluate(interactions: pd.DataFrame, items: pd.DataFrame, names) -> dict:
    """Per-user random holdout, same protocol for every model: {name: {metric@k: value, ...}}."""
    train, test = random_split(interactions, test_size=0.2, random_state=42)
    if not len(test):
        return {name: {"error": "not enough data for a holdout"} for name in names}
    table = evaluate_models(train, test, {n: model_build(n) for n in names}, k=EVAL_K, items=items)
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
