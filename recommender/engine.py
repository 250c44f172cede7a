"""Which engine models a run trains, how they are evaluated, and how fitted models are stored."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import pandas as pd
from django.conf import settings

from recommender.algorithms import (
    ALS,
    BPR,
    EASE,
    AssociationRules,
    Hybrid,
    ItemKNN,
    Popularity,
    PureSVD,
    TfidfContent,
    UserKNN,
)
from recommender.algorithms.evaluation import (
    METRICS,
    per_user_precision,
    ranking_metrics,
    relevant_pairs,
    split_by,
)
from recommender.algorithms.stats import paired_bootstrap_ci

# Length of stored lists: longer than any block so read-time filters (stock, bought) leave enough.
LIST_LENGTH = 30
SIMILAR_LENGTH = 20
EVAL_K = 10
GATE_METRIC = "precision"  # at EVAL_K
PURCHASE_METRIC = "precision_purchase"  # at EVAL_K: only held-out purchases count as hits
# Tuning and the choice of the serving model use nDCG@k on validation: smoother than precision (a
# coordinate search on hit counts stalls on ties; on MovieLens-shaped data the blend tuned on precision
# tied PureSVD on test, tuned on nDCG it beats it, docs/BENCHMARKS_ENGINE.md "Honest selection").
TUNE_METRIC = "ndcg"
# The protocol: each member's latest TEST_SIZE share of items is the test split ("what next"); the
# validation split is cut the same way from what is left. Every model is tuned and the serving model is
# chosen on validation; the test figure is computed once, after the choice.
PROTOCOL = "temporal"
TEST_SIZE = 0.2
VALIDATION_SIZE = 0.2
SEED = 42
# The same tuning budget for every model: at most four settings each, scored on the validation split
# (the Hybrid's own search on top is its blend weights). Chosen on medium demo data within the nightly
# budget (docs/BENCHMARKS_ENGINE.md "Honest selection").
TUNING_GRID = {
    "popularity": {"half_life_days": [None, 30.0]},
    "itemknn": {"k": [200, 400], "shrinkage": [10.0, 50.0]},
    "userknn": {"k": [50, 200]},
    "ease": {"l2": [500.0, 2000.0], "binary": [False, True]},
    "svd": {"factors": [16, 64]},
    "als": {"regularization": [0.05, 10.0], "alpha": [1.0, 5.0]},  # its defaults are far from its optimum
    "bpr": {"factors": [32, 64]},
    "rules": {"metric": ["confidence", "lift"]},
    "content": {"title_weight": [1, 2]},
}

# name → unfitted model with its defaults (what a tuned setting starts from; experiments' arms name these).
MODEL_FACTORIES = {
    "popularity": lambda: Popularity(half_life_days=30),
    "itemknn": ItemKNN,
    "userknn": UserKNN,
    "ease": EASE,
    "svd": PureSVD,
    "als": ALS,
    "bpr": BPR,
    "content": TfidfContent,
    "rules": AssociationRules,
    "hybrid": lambda: Hybrid(
        tune=True, param_grid=TUNING_GRID, validation=PROTOCOL, tune_metric=TUNE_METRIC, random_state=SEED
    ),
}
DEFAULT_MODELS = (
    "popularity",
    "itemknn",
    "userknn",
    "ease",
    "svd",
    "als",
    "bpr",
    "content",
    "rules",
    "hybrid",
)
# Preference order for the list served to members when metrics tie or are missing.
SERVING_PREFERENCE = (
    "hybrid",
    "ease",
    "itemknn",
    "als",
    "svd",
    "userknn",
    "bpr",
    "content",
    "rules",
    "popularity",
)


def available_models(names=None) -> list[str]:
    names = list(names or DEFAULT_MODELS)
    unknown = [n for n in names if n not in MODEL_FACTORIES]
    if unknown:
        raise ValueError(f"unknown models: {', '.join(unknown)}; choose from {', '.join(MODEL_FACTORIES)}")
    return names


def model_build(name, params: dict | None = None):
    model = MODEL_FACTORIES[name]()
    return model.set_params(**params) if params else model


def models_fit(names, interactions, items, tuned: dict | None = None, params: dict | None = None) -> dict:
    """{name: fitted model} for the lists to write on all data.

    `tuned` holds models fitted during evaluation; a tuned Hybrid there lends its choices
    (Hybrid.from_tuned), so the run tunes once, on the evaluation's validation split. `params`:
    {name: parameters chosen on validation} for the single models.
    """
    fitted = {}
    for name in names:
        if name == "hybrid" and tuned and "hybrid" in tuned:
            model = Hybrid.from_tuned(tuned["hybrid"], items=items)
        else:
            model = model_build(name, (params or {}).get(name))
        fitted[name] = model.fit(interactions, items=items)
    return fitted


@dataclass
class Evaluation:
    """What models_evaluate learned: figures per model, the fitted models, and the split the gate reuses."""

    metrics: dict
    models: dict = field(default_factory=dict)  # name -> model fitted on the training split
    params: dict = field(default_factory=dict)  # name -> parameters chosen on validation
    per_user: dict = field(default_factory=dict)  # name -> per-user test precision@k (Series)
    validation: dict = field(default_factory=dict)  # name -> validation nDCG@k
    protocol: str = PROTOCOL
    train: pd.DataFrame | None = None
    items: pd.DataFrame | None = None
    relevant: pd.DataFrame | None = None
    users: object = None

    def per_user_of(self, model) -> pd.Series:
        """Per-user test precision@k of another (unfitted) model fitted on the same training split."""
        model.fit(self.train, items=self.items)
        recs = model.recommend(self.users, n=EVAL_K, exclude_seen=True)
        return per_user_precision(recs, self.relevant, EVAL_K, users=self.users)


def _tuner(names, items) -> Hybrid:
    """One validation pass for every model: the Hybrid's search tunes each component on the same
    validation split with TUNING_GRID (one budget for all), then searches its blend on top."""
    has_items = items is not None and len(items) > 0
    singles = [n for n in (MODEL_FACTORIES if "hybrid" in names else names) if n != "hybrid"]
    templates = {n: model_build(n) for n in singles if n != "content" or has_items}
    return model_build("hybrid").set_params(models=templates)


def _validation_scores(tuner: Hybrid) -> tuple[dict, dict]:
    """({name: best validation nDCG@k}, {name: its parameters}) from the tuner's trial table."""
    key = TUNE_METRIC
    table = tuner.tuning_
    scores, params = {}, {}
    if table is None or not len(table) or key not in table.columns:
        return scores, params
    singles = table[(table["stage"] == "params") & table[key].notna()]
    for name, rows in singles.groupby("model", sort=False):
        best = rows.loc[rows[key].idxmax()]
        scores[name], params[name] = float(best[key]), dict(best["params"])
    blends = table[(table["stage"] == "weights") & table[key].notna()]
    if len(blends):
        scores["hybrid"] = float(blends[key].iloc[-1])
    return scores, params


def _purchase_relevant(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    if "kind" not in test.columns:
        return test.iloc[0:0][["user_id", "item_id"]]
    return relevant_pairs(train, test[test["kind"] == "purchase"])


def models_evaluate(
    interactions: pd.DataFrame, items: pd.DataFrame, names, *, protocol: str = PROTOCOL
) -> Evaluation:
    """Tune every model on validation, choose on validation, then measure each once on the test split.

    Test split: each member's latest TEST_SIZE share (``protocol="temporal"``; per-user random with
    ``"random"``). Validation: cut the same way from the training split. Per model the figures are
    metric@k on test (any interaction is a hit), ``precision_purchase@k`` (only purchases),
    ``validation_ndcg@k`` (what tuning and the choice used) and the parameters chosen.
    """
    train, test = split_by(protocol, interactions, TEST_SIZE, SEED)
    relevant = relevant_pairs(train, test)
    if not len(relevant):
        return Evaluation(
            {name: {"error": "not enough data for a holdout"} for name in names}, protocol=protocol
        )
    users = pd.unique(relevant["user_id"])
    bought = _purchase_relevant(train, test)
    catalogue = (
        len(set(train["item_id"]) | set(items["item_id"]))
        if items is not None
        else train["item_id"].nunique()
    )
    tuner = _tuner(names, items).set_params(validation=protocol)
    started = time.perf_counter()
    try:
        tuner.fit(train, items=items)
    except ValueError as exc:
        return Evaluation(
            {name: {"error": f"{type(exc).__name__}: {exc}"} for name in names}, protocol=protocol
        )
    tune_seconds = time.perf_counter() - started
    val_scores, params = _validation_scores(tuner)
    out = Evaluation({}, protocol=protocol, train=train, items=items, relevant=relevant, users=users)
    for name in names:
        metrics: dict = {}
        try:
            started = time.perf_counter()
            if name == "hybrid":
                model = tuner
            elif name in tuner.components_ and tuner.components_[name].get_params() == (
                model_build(name, params.get(name)).get_params()
            ):
                model = tuner.components_[name]  # already fitted on the training split with these settings
            else:
                model = model_build(name, params.get(name)).fit(train, items=items)
            fitted = time.perf_counter()
            recs = model.recommend(users, n=EVAL_K, exclude_seen=True)
        except ValueError as exc:  # ModelUnavailable and bad-input errors are reported, not raised
            out.metrics[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        figures = ranking_metrics(recs, relevant, EVAL_K, n_items=catalogue)
        for metric in METRICS:
            if pd.notna(figures.get(metric)):
                metrics[f"{metric}@{EVAL_K}"] = round(float(figures[metric]), 6)
        metrics["n_users"] = int(figures["n_users"])
        if len(bought):
            metrics[f"{PURCHASE_METRIC}@{EVAL_K}"] = round(
                float(per_user_precision(recs, bought, EVAL_K).mean()), 6
            )
        if name in val_scores:
            metrics[f"validation_{TUNE_METRIC}@{EVAL_K}"] = round(val_scores[name], 6)
        metrics["fit_seconds"] = round(tune_seconds if name == "hybrid" else fitted - started, 3)
        metrics["recommend_seconds"] = round(time.perf_counter() - fitted, 3)
        if params.get(name):
            metrics["params"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in params[name].items()}
        if name == "hybrid":
            metrics["params"] = {
                "weights": {k: round(float(v), 4) for k, v in tuner.weights_.items() if v > 0}
            }
        out.metrics[name] = metrics
        out.models[name] = model
        out.per_user[name] = per_user_precision(recs, relevant, EVAL_K, users=users)
        if name in val_scores:
            out.validation[name] = val_scores[name]
    out.params = {n: p for n, p in params.items() if n in names}
    return out


def serving_model_choose(metrics: dict, names) -> str:
    """The personalised model with the best validation nDCG@k (the test figure plays no part);
    popularity only when nothing else works. Without validation figures, test precision@k decides."""
    val = f"validation_{TUNE_METRIC}@{EVAL_K}"
    key = (
        val
        if any(val in metrics.get(n, {}) for n in names if n != "popularity")
        else f"{GATE_METRIC}@{EVAL_K}"
    )
    personal = [n for n in names if n != "popularity" and key in metrics.get(n, {})]
    if personal:
        return max(personal, key=lambda n: (metrics[n][key], -SERVING_PREFERENCE.index(n)))
    return "popularity"


def versus_serving(evaluation: Evaluation, serving: str) -> dict:
    """{model: paired bootstrap CI of serving − model} of per-user test precision@k."""
    base = evaluation.per_user.get(serving)
    if base is None:
        return {}
    out = {}
    for name, figures in evaluation.per_user.items():
        if name != serving:
            ci = paired_bootstrap_ci(base, figures)
            out[name] = {
                k: (round(v, 6) if isinstance(v, float) else v)
                for k, v in ci.items()
                if k in ("diff", "low", "high", "excludes_zero")
            }
    return out


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
