"""Which engine models a run trains, how they are evaluated, and how fitted models are stored."""
from __future__ import annotations

import os
from pathlib import Path

import joblib
import pandas as pd
from django.conf import settings

from recommender.algorithms import (
    EASE,
    AssociationRules,
    Hybrid,
    ItemKNN,
    Popularity,
    PureSVD,
    TfidfContent,
    UserKNN,
)
from recommender.algorithms.evaluation import METRICS, evaluate_models, random_split
from recommender.algorithms.hybrid import NIGHTLY_GRID

# Length of stored lists: longer than any block so read-time filters (stock, bought) leave enough.
LIST_LENGTH = 30
SIMILAR_LENGTH = 20
EVAL_K = 10
GATE_METRIC = "precision"  # at EVAL_K

# name → factory of an unfitted model. Every one is evaluated on medium data within the nightly
# budget (docs/BENCHMARKS.md "Recommendations in production"). The Hybrid tunes its components and
# blend on a validation split cut from the evaluation's training data: untuned it loses to EASE on
# the demo shop, tuned it wins (docs/BENCHMARKS_ENGINE.md); NIGHTLY_GRID keeps that within budget.
MODEL_FACTORIES = {
    "popularity": lambda: Popularity(half_life_days=30),
    "itemknn": ItemKNN,
    "userknn": UserKNN,
    "ease": EASE,
    "svd": PureSVD,
    "content": TfidfContent,
    "rules": AssociationRules,
    "hybrid": lambda: Hybrid(tune=True, param_grid=NIGHTLY_GRID, random_state=42),
}
DEFAULT_MODELS = ("popularity", "itemknn", "userknn", "ease", "svd", "content", "rules", "hybrid")
# Preference order for the list served to members when metrics tie or are missing.
SERVING_PREFERENCE = ("hybrid", "ease", "itemknn", "svd", "userknn", "content", "rules", "popularity")


def available_models(names=None) -> list[str]:
    names = list(names or DEFAULT_MODELS)
    unknown = [n for n in names if n not in MODEL_FACTORIES]
    if unknown:
        raise ValueError(f"unknown models: {', '.join(unknown)}; choose from {', '.join(MODEL_FACTORIES)}")
    return names


def model_build(name):
    return MODEL_FACTORIES[name]()


def models_fit(names, interactions, items, tuned: dict | None = None) -> dict:
    """{name: fitted model} for the lists to write on all data.

    `tuned` holds models fitted during evaluation; a tuned Hybrid there lends its choices
    (Hybrid.from_tuned), so the run tunes once, on the evaluation's training split.
    """
    fitted = {}
    for name in names:
        if name == "hybrid" and tuned and "hybrid" in tuned:
            model = Hybrid.from_tuned(tuned["hybrid"], items=items)
        else:
            model = model_build(name)
        fitted[name] = model.fit(interactions, items=items)
    return fitted


def models_evaluate(interactions: pd.DataFrame, items: pd.DataFrame, names) -> tuple[dict, dict]:
    """Per-user random holdout, same protocol for every model.

    Returns ({name: {metric@k: value, ...}}, {name: the model fitted on the training split}).
    """
    train, test = random_split(interactions, test_size=0.2, random_state=42)
    if not len(test):
        return {name: {"error": "not enough data for a holdout"} for name in names}, {}
    models = {n: model_build(n) for n in names}
    table = evaluate_models(train, test, models, k=EVAL_K, items=items)
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
    return out, models


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
