"""Feedback learned, not guessed: net positive/negative signal, time decay, weight tuning, repurchase intervals."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .data import EVENT_WEIGHTS, behaviour_weights, decay, prepare_interactions
from .evaluation import ranking_metrics, relevant_pairs

# The half-life (days) of behaviour in the collaborative models' input, chosen by tune_feedback on the
# medium demo and online-retail (docs/BENCHMARKS_ENGINE.md, "Feedback learned"). None = no decay.
# The one value: the training frames (services.frames) and the fold-in (serving.history_weights) read it.
HALF_LIFE_DAYS: float | None = 365.0

# Weight tables tune_feedback compares (the positive kinds; negative kinds keep EVENT_WEIGHTS' values).
CANDIDATE_TABLES = {
    "current": dict(EVENT_WEIGHTS),
    "flat": {**EVENT_WEIGHTS, "view": 1.0, "cart_add": 1.0, "favourite": 1.0, "purchase": 1.0},
    "purchase_heavy": {**EVENT_WEIGHTS, "view": 1.0, "cart_add": 2.0, "favourite": 3.0, "purchase": 10.0},
    "view_light": {**EVENT_WEIGHTS, "view": 0.5, "cart_add": 3.0, "favourite": 4.0, "purchase": 5.0},
}
CANDIDATE_HALF_LIVES = (None, 30.0, 90.0, 180.0, 365.0)

# Repurchase intervals: a product needs this many members' repeat gaps for its own median, else its
# category's median is used, else DEFAULT_REPURCHASE_DAYS.
MIN_REPEAT_GAPS = 3
DEFAULT_REPURCHASE_DAYS = 30.0


def net_feedback(
    frame: pd.DataFrame, *, half_life_days: float | None = HALF_LIFE_DAYS, now: float | None = None
) -> pd.DataFrame:
    """The positive rows of a signed behaviour frame, with negative feedback already counted against them.

    ``frame``: user_id, item_id, weight (signed: negative kinds and 1-2 star ratings below 0),
    timestamp (unix seconds), any other columns. Weights are decayed by age from ``now`` (default: the
    latest timestamp) when ``half_life_days`` is set. A pair's net = its strongest positive row + the
    sum of its negative rows (prepare_interactions' rule); pairs with net <= 0 lose every row, and the
    other pairs keep their positive rows with each weight capped at the net, so a "max" aggregation
    downstream yields the net and negative rows never reach splits, baskets or relevance.
    """
    if frame.empty:
        return frame.copy()
    df = frame.reset_index(drop=True).copy()
    w = df["weight"].to_numpy(np.float64)
    if half_life_days is not None and "timestamp" in df.columns:
        secs = df["timestamp"].to_numpy(np.float64)
        ref = float(now) if now is not None else np.nanmax(secs)
        w = decay(w, (ref - secs) / 86400.0, half_life_days)
    df["weight"] = w
    keys = [df["user_id"], df["item_id"]]
    pos = pd.Series(np.maximum(w, 0.0)).groupby(keys, sort=False).transform("max").to_numpy()
    neg = pd.Series(np.minimum(w, 0.0)).groupby(keys, sort=False).transform("sum").to_numpy()
    net = pos + neg
    keep = (w > 0) & (net > 0)
    df["weight"] = np.minimum(w, net)
    return df[keep].reset_index(drop=True)


def _score(prepared: pd.DataFrame, relevant: pd.DataFrame, make_probe, k: int) -> dict:
    model = make_probe().fit(prepared)
    users = pd.unique(relevant["user_id"])
    users = users[pd.Index(users).isin(pd.Index(pd.unique(prepared["user_id"])))]
    recs = model.recommend(users, n=k)
    return ranking_metrics(recs, relevant, k=k)


def tune_feedback(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    tables: dict | None = None,
    half_lives=CANDIDATE_HALF_LIVES,
    make_probe=None,
    k: int = 10,
    metric: str = "precision",
) -> dict:
    """Choose the weight table and half-life by a probe model's ``metric``@k on the validation pairs.

    ``train``: user_id, item_id, event, [rating], timestamp rows; ``valid``: the held-out (user_id,
    item_id) pairs (only positive behaviour, items not already in train count). Each candidate table
    (``tables``, default CANDIDATE_TABLES) x half-life (``half_lives``, None = no decay) prepares the
    training rows (prepare_interactions, decay measured from train's latest timestamp) and fits the probe
    (``make_probe()``, default EASE l2=500). Returns {"table", "half_life_days", "figures": [one dict per
    candidate: table, half_life_days, metric values, seconds]} with the best candidate first.
    """
    if make_probe is None:
        from .models import EASE

        def make_probe():
            return EASE(l2=500.0)

    tables = tables or CANDIDATE_TABLES
    base = prepare_interactions(train)
    relevant = relevant_pairs(base, valid)
    rows = []
    for name, table in tables.items():
        for half_life in half_lives:
            started = time.perf_counter()
            prepared = prepare_interactions(train, event_weights=table, half_life_days=half_life)
            figures = _score(prepared, relevant, make_probe, k)
            rows.append(
                {
                    "table": name,
                    "half_life_days": half_life,
                    **{key: float(figures[key]) for key in ("precision", "recall", "ndcg") if key in figures},
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
    rows.sort(key=lambda r: -r.get(metric, 0.0))
    best = rows[0]
    return {"table": best["table"], "half_life_days": best["half_life_days"], "figures": rows}


def repurchase_intervals(
    lines: pd.DataFrame,
    *,
    min_gaps: int = MIN_REPEAT_GAPS,
    default_days: float | None = DEFAULT_REPURCHASE_DAYS,
) -> dict:
    """{item_id: days} after which a member typically buys an item again, from paid order lines.

    ``lines``: user_id, item_id, timestamp (unix seconds or datetimes), optional category_id. Gaps
    are between consecutive purchases of the same item by the same member on different days (two
    lines of one order are one purchase). An item with at least ``min_gaps`` gaps gets its own median;
    else its category's median (the pooled gaps of its category, when there are ``min_gaps``); else
    ``default_days`` (None: left out). Items never bought appear only through ``default_days`` by the
    caller.
    """
    if lines.empty:
        return {}
    from .data import _as_seconds

    df = pd.DataFrame(
        {
            "user_id": lines["user_id"].to_numpy(),
            "item_id": lines["item_id"].to_numpy(),
            "day": np.floor(_as_seconds(lines["timestamp"]) / 86400.0),
        }
    )
    if "category_id" in lines.columns:
        df["category_id"] = lines["category_id"].to_numpy()
    df = df.dropna(subset=["user_id", "item_id", "day"]).drop_duplicates(["user_id", "item_id", "day"])
    df = df.sort_values(["user_id", "item_id", "day"])
    df["gap"] = df.groupby(["user_id", "item_id"], sort=False)["day"].diff()
    gaps = df.dropna(subset=["gap"])
    by_item = gaps.groupby("item_id")["gap"].agg(["median", "size"])
    out = {item: float(row["median"]) for item, row in by_item.iterrows() if row["size"] >= min_gaps}
    by_category = {}
    if "category_id" in df.columns:
        cat = gaps.dropna(subset=["category_id"]).groupby("category_id")["gap"].agg(["median", "size"])
        by_category = {c: float(r["median"]) for c, r in cat.iterrows() if r["size"] >= min_gaps}
    items = df.drop_duplicates("item_id")
    for row in items.itertuples(index=False):
        if row.item_id in out:
            continue
        days = by_category.get(getattr(row, "category_id", None), default_days)
        if days is not None:
            out[row.item_id] = float(days)
    return out


def still_fresh(last_bought_seconds: float, interval_days: float, now_seconds: float) -> bool:
    """True while a consumable bought at ``last_bought_seconds`` is not due again (now - last < interval)."""
    return (now_seconds - last_bought_seconds) < interval_days * 86400.0


__all__ = [
    "CANDIDATE_HALF_LIVES",
    "CANDIDATE_TABLES",
    "HALF_LIFE_DAYS",
    "behaviour_weights",
    "net_feedback",
    "repurchase_intervals",
    "still_fresh",
    "tune_feedback",
]
