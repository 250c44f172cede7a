"""Offline evaluation: splits, top-k metrics, model comparison and validation-split tuning."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd

METRICS = ["precision", "recall", "f1", "ndcg", "map", "hit_rate", "coverage"]


# -- splits --------------------------------------------------------------------------------------
def _pair_frame(interactions: pd.DataFrame) -> pd.DataFrame:
    df = interactions.dropna(subset=["user_id", "item_id"])
    return df[["user_id", "item_id"]].drop_duplicates().reset_index(drop=True)


def _rows_of_pairs(interactions: pd.DataFrame, pairs: pd.DataFrame, is_test: np.ndarray):
    """Split the rows of ``interactions`` so that all rows of a (user, item) pair land together."""
    df = interactions.dropna(subset=["user_id", "item_id"])
    test_keys = pd.MultiIndex.from_frame(pairs.loc[is_test, ["user_id", "item_id"]])
    in_test = pd.MultiIndex.from_frame(df[["user_id", "item_id"]]).isin(test_keys)
    return df[~in_test].reset_index(drop=True), df[in_test].reset_index(drop=True)


def _positions_in_shuffled_user_order(pairs: pd.DataFrame, rng):
    """Per pair: its user's code, and its 0-based position among that user's pairs in a random
    order; plus each user's pair count. Splits cut users' pairs by these positions."""
    key = rng.random(len(pairs))
    codes, _ = pd.factorize(pairs["user_id"])
    order = np.lexsort((key, codes))
    sizes = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.empty(len(pairs), dtype=np.int64)
    pos[order] = np.arange(len(pairs)) - np.repeat(starts, sizes)
    return codes, sizes, pos


def random_split(interactions: pd.DataFrame, test_size: float = 0.25, random_state: int = 42):
    """Per-user random holdout of (user, item) pairs: ``round(n * test_size)`` pairs of each user go
    to test, always leaving at least one in train (users with one pair stay in train only)."""
    pairs = _pair_frame(interactions)
    rng = np.random.default_rng(random_state)
    codes, sizes, pos = _positions_in_shuffled_user_order(pairs, rng)
    n_test = np.minimum(np.floor(sizes * test_size + 0.5).astype(np.int64), sizes - 1)
    is_test = pos < n_test[codes]
    return _rows_of_pairs(interactions, pairs, is_test)


def temporal_split(interactions: pd.DataFrame, n_last: int = 1, test_size: float | None = None):
    """Leave-last-out: each user's latest ``n_last`` items (by ``timestamp``) go to test.

    With ``test_size`` the latest ``round(n * test_size)`` of each user's n items go instead (at
    least one when n > 1), the "what next" question with as many test pairs as a random split.
    Users with one item stay in train only either way."""
    if "timestamp" not in interactions.columns:
        raise ValueError("temporal_split needs a timestamp column")
    df = interactions.dropna(subset=["user_id", "item_id"])
    from .data import _as_seconds

    last = pd.DataFrame(
        {
            "user_id": df["user_id"].to_numpy(),
            "item_id": df["item_id"].to_numpy(),
            "t": _as_seconds(df["timestamp"]),
            "o": np.arange(len(df)),
        }
    )
    last = last.groupby(["user_id", "item_id"], sort=False, as_index=False).agg(
        t=("t", "max"), o=("o", "max")
    )
    last = last.sort_values(["user_id", "t", "o"], ascending=[True, False, False])
    rank = last.groupby("user_id", sort=False).cumcount().to_numpy()
    sizes = last.groupby("user_id", sort=False)["item_id"].transform("size").to_numpy()
    if test_size is not None:
        n_last = np.maximum(np.floor(sizes * test_size + 0.5).astype(np.int64), 1)
    is_test = (rank < n_last) & (rank < sizes - 1)
    pairs = last[["user_id", "item_id"]].reset_index(drop=True)
    return _rows_of_pairs(interactions, pairs, is_test)


def kfold_split(interactions: pd.DataFrame, n_splits: int = 5, random_state: int = 42):
    """K-fold cross-validation over each user's pairs; yields (train, test) frames."""
    pairs = _pair_frame(interactions)
    rng = np.random.default_rng(random_state)
    codes, sizes, pos = _positions_in_shuffled_user_order(pairs, rng)
    offset = rng.integers(0, n_splits, size=len(sizes))  # so fold 0 is not always the largest
    fold = (pos + offset[codes]) % n_splits
    for f in range(n_splits):
        yield _rows_of_pairs(interactions, pairs, fold == f)


# -- metrics -------------------------------------------------------------------------------------
def relevant_pairs(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Test (user, item) pairs minus those already in train: seen items never count."""
    t = _pair_frame(test)
    if len(train):
        seen = pd.MultiIndex.from_frame(_pair_frame(train))
        t = t[~pd.MultiIndex.from_frame(t).isin(seen)]
    return t.reset_index(drop=True)


def metrics_from_hits(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> dict:
    """Mean metrics from a users x k boolean hit matrix (rank order) and relevant counts."""
    hits = np.asarray(hits, dtype=bool)[:, :k]
    if hits.shape[1] < k:
        hits = np.pad(hits, ((0, 0), (0, k - hits.shape[1])))
    n_rel = np.asarray(n_relevant, dtype=np.float64)
    if len(n_rel) == 0:
        return {m: np.nan for m in ["precision", "recall", "f1", "ndcg", "map", "hit_rate"]}
    n_hit = hits.sum(axis=1)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * disc).sum(axis=1)
    ideal = np.cumsum(disc)[np.minimum(n_rel, k).astype(int) - 1]
    prec_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    ap = (prec_at * hits).sum(axis=1) / np.minimum(n_rel, k)
    p = float(np.mean(n_hit / k))
    r = float(np.mean(n_hit / n_rel))
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r > 0 else 0.0,
        "ndcg": float(np.mean(dcg / ideal)),
        "map": float(np.mean(ap)),
        "hit_rate": float(np.mean(n_hit > 0)),
    }


def split_by(protocol: str, interactions: pd.DataFrame, test_size: float = 0.2, random_state: int = 42):
    """(train, test) by protocol: ``temporal`` (each user's latest ``test_size`` share; random when
    there are no timestamps) or ``random`` (per-user random share)."""
    if protocol == "temporal" and "timestamp" in interactions.columns:
        return temporal_split(interactions, test_size=test_size)
    if protocol not in ("temporal", "random"):
        raise ValueError("protocol must be 'temporal' or 'random'")
    return random_split(interactions, test_size, random_state)


def per_user_precision(recs: pd.DataFrame, relevant: pd.DataFrame, k: int = 10, users=None) -> pd.Series:
    """Precision@k of each user (index ``users``, default the users in ``relevant``): hits in the
    top k / k. A user without recommendations scores 0. The per-user figures paired bootstrap
    intervals resample (their mean is ``ranking_metrics``' precision over the same users)."""
    users = pd.Index(pd.unique(relevant["user_id"]) if users is None else pd.unique(pd.Series(list(users))))
    r = recs[(recs["rank"] <= k) & recs["user_id"].isin(users)]
    rel_keys = pd.MultiIndex.from_frame(relevant[["user_id", "item_id"]])
    is_hit = pd.MultiIndex.from_frame(r[["user_id", "item_id"]]).isin(rel_keys)
    hits = np.bincount(users.get_indexer(r["user_id"][is_hit]), minlength=len(users))
    return pd.Series(hits / k, index=users, name="precision")


def ranking_metrics(
    recs: pd.DataFrame, relevant: pd.DataFrame, k: int = 10, n_items: int | None = None
) -> dict:
    """precision, recall, F1, nDCG, MAP, hit rate and coverage at k.

    Averaged over users with at least one relevant item (``relevant``: user_id, item_id, already
    without training items). Precision divides by k; MAP divides by min(relevant, k); F1 is the
    harmonic mean of mean precision and mean recall; nDCG uses binary gains; coverage is distinct
    recommended items (over the evaluated users) / ``n_items``.
    """
    users = pd.Index(pd.unique(relevant["user_id"]))
    n_rel = np.bincount(users.get_indexer(relevant["user_id"]), minlength=len(users))
    r = recs[recs["rank"] <= k]
    r = r[r["user_id"].isin(users)]
    rel_keys = pd.MultiIndex.from_frame(relevant[["user_id", "item_id"]])
    is_hit = pd.MultiIndex.from_frame(r[["user_id", "item_id"]]).isin(rel_keys)
    hits = np.zeros((len(users), k), dtype=bool)
    u = users.get_indexer(r["user_id"])
    hits[u[is_hit], r["rank"].to_numpy()[is_hit] - 1] = True
    out = metrics_from_hits(hits, n_rel, k)
    out["coverage"] = r["item_id"].nunique() / n_items if n_items else np.nan
    out["n_users"] = len(users)
    return out


# -- comparison ------------------------------------------------------------------------------------
def evaluate_models(
    train: pd.DataFrame,
    test: pd.DataFrame,
    models: dict,
    k: int = 10,
    items: pd.DataFrame | None = None,
    progress=None,
) -> pd.DataFrame:
    """Fit each model on ``train``, recommend k items to every test user, score against ``test``.

    Returns one row per model (index: the dict's keys) with the metrics in ``METRICS``,
    ``n_users``, ``fit_seconds``, ``recommend_seconds`` and ``error`` (a message when the model
    could not be fitted, e.g. EASE over ``max_items``; its metrics are then NaN).
    ``progress``: optional callable(name) called before each model (for progress bars).
    """
    from .data import prepare_interactions

    relevant = relevant_pairs(train, test)
    users = pd.unique(relevant["user_id"])
    catalogue = set(pd.unique(prepare_interactions(train, items)["item_id"]))
    if items is not None:
        catalogue |= set(items["item_id"])
    rows = {}
    for name, model in models.items():
        if progress:
            progress(name)
        row = {m: np.nan for m in METRICS}
        row.update(n_users=len(users), fit_seconds=np.nan, recommend_seconds=np.nan, error=None)
        try:
            t0 = time.perf_counter()
            model.fit(train, items=items)
            t1 = time.perf_counter()
            recs = model.recommend(users, n=k, exclude_seen=True)
            t2 = time.perf_counter()
        except ValueError as exc:  # ModelUnavailable and bad-input errors are reported, not raised
            row["error"] = f"{type(exc).__name__}: {exc}"
            rows[name] = row
            continue
        row.update(ranking_metrics(recs, relevant, k, n_items=len(catalogue)))
        row["fit_seconds"] = t1 - t0
        row["recommend_seconds"] = t2 - t1
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out[METRICS + ["n_users", "fit_seconds", "recommend_seconds", "error"]]


def tune_model(
    make_model,
    param_grid: dict,
    train: pd.DataFrame,
    items: pd.DataFrame | None = None,
    k: int = 10,
    metric: str = "ndcg",
    validation_size: float = 0.2,
    random_state: int = 42,
):
    """Grid search on a validation split carved from ``train`` (never the test split).

    ``make_model(**params)`` builds a model; ``param_grid`` maps parameter -> list of values.
    Returns (best_params, results frame sorted best first).
    """
    fit_part, val_part = random_split(train, validation_size, random_state)
    names = list(param_grid)
    results = []
    for values in itertools.product(*(param_grid[n] for n in names)):
        params = dict(zip(names, values))
        res = evaluate_models(fit_part, val_part, {"candidate": make_model(**params)}, k=k, items=items)
        row = res.iloc[0].to_dict()
        row.update(params)
        results.append(row)
    table = pd.DataFrame(results).sort_values(metric, ascending=False, kind="stable").reset_index(drop=True)
    best = {n: table.loc[0, n] for n in names}
    best = {n: (v.item() if hasattr(v, "item") else v) for n, v in best.items()}
    return best, table
