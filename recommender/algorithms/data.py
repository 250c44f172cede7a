"""Data preparation: clean interaction frames, turn behaviour into weights, build sparse matrices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

# Strength of each behaviour; a rating event weighs by its stars instead (RATING_WEIGHTS). The one table:
# the shop's training frames and the near-real-time fold-in (serving.history_weights) read it too.
# Negative kinds count against an item: a (user, item) pair's signal is its strongest positive row plus
# the sum of its negative rows (prepare_interactions), and a pair whose net is <= 0 is not learned at all.
# Positives were tuned on validation (feedback.tune_feedback, docs/BENCHMARKS_ENGINE.md); negatives are
# set so that undoing a behaviour cancels it (favourite 4 - unfavourite 4 = 0) and "not interested"
# outweighs any one positive behaviour.
EVENT_WEIGHTS = {
    "view": 1.0,
    "click": 1.0,
    "cart": 3.0,
    "cart_add": 3.0,
    "add_to_cart": 3.0,
    "favourite": 4.0,
    "favorite": 4.0,
    "wishlist": 4.0,
    "purchase": 5.0,
    "order": 5.0,
    "buy": 5.0,
    "cart_remove": -2.0,
    "unfavourite": -4.0,
    "unfavorite": -4.0,
    "not_interested": -6.0,
}
# Stars of a rating event -> weight: 1-2 stars count against the item (a 1-star review of a purchase
# cancels it), 3 is a weak positive (like a view), 4-5 strong. Stars between steps round to the nearest.
RATING_WEIGHTS = {1: -5.0, 2: -3.0, 3: 1.0, 4: 4.0, 5: 5.0}
NEUTRAL_STARS = 3.0  # a rating event without a value
RATING_EVENTS = {"rating", "rate", "review"}


def rating_weight(stars) -> np.ndarray | float:
    """The weight of a rating of ``stars`` (scalar or array; missing -> neutral) by RATING_WEIGHTS."""
    arr = np.asarray(stars, dtype=np.float64)
    arr = np.where(np.isfinite(arr), arr, NEUTRAL_STARS)
    steps = np.clip(np.rint(arr), min(RATING_WEIGHTS), max(RATING_WEIGHTS)).astype(np.int64)
    table = np.zeros(max(RATING_WEIGHTS) + 1)
    for k, v in RATING_WEIGHTS.items():
        table[k] = v
    out = table[steps]
    return float(out) if out.ndim == 0 else out


def behaviour_weights(kinds, values=None, *, weights: dict | None = None) -> np.ndarray:
    """Row weights of behaviour ``kinds`` (rating rows by their ``values`` stars): the one rule the
    training frames, prepare_interactions and the serving fold-in share. Unknown kinds weigh 1."""
    table = weights if weights is not None else EVENT_WEIGHTS
    k = pd.Series(kinds, dtype="string").str.lower().str.strip()
    w = k.map(table).astype("Float64").fillna(1.0).to_numpy(np.float64)
    if values is not None:
        is_rating = k.isin(RATING_EVENTS).fillna(False).to_numpy(bool)
        if is_rating.any():
            stars = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
            w = np.where(is_rating, rating_weight(stars), w)
    return w


def decay(weights, age_days, half_life_days: float | None):
    """``weights * 0.5 ** (age_days / half_life_days)``; unchanged when the half-life is None."""
    if half_life_days is None:
        return weights
    age = np.clip(np.nan_to_num(np.asarray(age_days, dtype=np.float64), nan=0.0), 0.0, None)
    return weights * np.power(0.5, age / float(half_life_days))


def _as_seconds(ts: pd.Series) -> np.ndarray:
    """Timestamps (datetimes, or numbers taken as unix seconds) as float seconds."""
    if pd.api.types.is_numeric_dtype(ts):
        return ts.to_numpy(dtype=np.float64)
    dt = pd.to_datetime(ts, errors="coerce", utc=True)
    out = (dt - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return out.to_numpy(dtype=np.float64)


def prepare_interactions(
    interactions: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    event_weights: dict | None = None,
    use_rating: bool | None = None,
    half_life_days: float | None = None,
    now=None,
    aggregate: str = "max",
    drop_unknown_items: bool = True,
) -> pd.DataFrame:
    """Clean an interaction frame and return one row per (user_id, item_id) with a positive `weight`.

    Steps: drop rows with a missing user or item, drop exact duplicate rows, drop items that are
    not in ``items`` (when given and ``drop_unknown_items``), compute a weight per row, optionally
    decay it by age, then aggregate rows of the same pair (``max``: strongest behaviour wins;
    ``sum``: repeated behaviour adds up).

    Row weight, first rule that applies:
      * a ``weight`` column (missing values -> 1);
      * an ``event`` column: EVENT_WEIGHTS (view 1, cart 3, favourite 4, purchase 5, cart_remove -2,
        unfavourite -4, not_interested -6; ``event_weights`` overrides), rating/review events by their
        ``rating`` stars through RATING_WEIGHTS (1-2 stars negative), unknown kinds 1;
      * a ``rating`` column without events, only when ``use_rating=True``;
      * otherwise 1 per row (implicit feedback). ``use_rating=None`` (default) means: a pure
        ratings file (MovieLens-like) is treated as implicit, because for top-N precision "the
        user interacted" is the signal and 1-2 star rows still mean interest.
    With ``half_life_days`` and a ``timestamp`` column the weight is multiplied by
    ``0.5 ** (age_days / half_life_days)`` where age is measured from ``now`` (default: the
    latest timestamp). A pair's weight is its positive rows aggregated plus the sum of its negative
    rows (negative feedback counts against the item); pairs whose net is <= 0 are dropped, so no
    model ever sees a negative weight. The output keeps the latest ``timestamp`` of each pair and the first
    ``basket_id`` if those columns exist.
    """
    if "user_id" not in interactions.columns or "item_id" not in interactions.columns:
        raise ValueError("interactions needs columns user_id and item_id")
    df = interactions.dropna(subset=["user_id", "item_id"]).drop_duplicates()
    if items is not None and drop_unknown_items and "item_id" in items.columns:
        df = df[df["item_id"].isin(items["item_id"])]
    weights = event_weights if event_weights is not None else EVENT_WEIGHTS

    if "weight" in df.columns:
        w = pd.to_numeric(df["weight"], errors="coerce").fillna(1.0).to_numpy(np.float64)
    elif "event" in df.columns:
        w = behaviour_weights(df["event"], df["rating"] if "rating" in df.columns else None, weights=weights)
    elif "rating" in df.columns and use_rating:
        w = pd.to_numeric(df["rating"], errors="coerce").fillna(1.0).to_numpy(np.float64)
    else:
        w = np.ones(len(df), dtype=np.float64)

    has_ts = "timestamp" in df.columns
    secs = _as_seconds(df["timestamp"]) if has_ts else None
    if half_life_days is not None and has_ts and len(df):
        ref = _as_seconds(pd.Series([now]))[0] if now is not None else np.nanmax(secs)
        w = decay(w, (ref - secs) / 86400.0, half_life_days)

    out = pd.DataFrame(
        {"user_id": df["user_id"].to_numpy(), "item_id": df["item_id"].to_numpy(), "weight": w}
    )
    if has_ts:
        out["timestamp"] = secs
    if "basket_id" in df.columns:
        out["basket_id"] = df["basket_id"].to_numpy()
    # Net signal of a pair: its positive rows aggregated (max or sum), plus all its negative rows.
    out["negative"] = np.minimum(out["weight"].to_numpy(), 0.0)
    out["weight"] = np.maximum(out["weight"].to_numpy(), 0.0)
    agg = {"weight": aggregate, "negative": "sum"}
    if has_ts:
        agg["timestamp"] = "max"
    if "basket_id" in out.columns:
        agg["basket_id"] = "first"
    out = out.groupby(["user_id", "item_id"], sort=False, as_index=False).agg(agg)
    out["weight"] = out["weight"] + out.pop("negative")
    out = out[out["weight"] > 0]
    return out.reset_index(drop=True)


@dataclass
class InteractionMatrix:
    """A user x item CSR matrix with the id mappings both ways.

    ``users[row]`` / ``items[col]`` give ids; ``user_rows(ids)`` / ``item_cols(ids)`` give
    positions (-1 for unknown ids).
    """

    matrix: sp.csr_matrix
    users: pd.Index
    items: pd.Index

    def user_rows(self, ids) -> np.ndarray:
        return self.users.get_indexer(
            pd.Index(list(ids) if not isinstance(ids, (pd.Index, np.ndarray)) else ids)
        )

    def item_cols(self, ids) -> np.ndarray:
        return self.items.get_indexer(
            pd.Index(list(ids) if not isinstance(ids, (pd.Index, np.ndarray)) else ids)
        )

    @property
    def shape(self):
        return self.matrix.shape


def build_matrix(
    prepared: pd.DataFrame, item_ids=None, dtype=np.float32, item_index: pd.Index | None = None
) -> InteractionMatrix:
    """CSR user x item matrix from a prepared frame (user_id, item_id, weight).

    ``item_ids`` extends the item universe (e.g. catalogue items without interactions, so
    content models can recommend them); users and items are ordered by first appearance.
    ``item_index`` fixes the exact column order instead (rows with other items are dropped).
    """
    users = pd.Index(pd.unique(prepared["user_id"]))
    item_list = pd.unique(prepared["item_id"])
    if item_index is not None:
        prepared = prepared[prepared["item_id"].isin(item_index)]
        item_list = item_index
    elif item_ids is not None:
        extra = pd.Index(pd.unique(pd.Series(item_ids).dropna())).difference(pd.Index(item_list), sort=False)
        if len(extra):
            item_list = np.concatenate([np.asarray(item_list, dtype=object), np.asarray(extra, dtype=object)])
    items = pd.Index(item_list)
    rows = users.get_indexer(prepared["user_id"])
    cols = items.get_indexer(prepared["item_id"])
    w = prepared["weight"].to_numpy(dtype) if "weight" in prepared.columns else np.ones(len(prepared), dtype)
    m = sp.csr_matrix((w, (rows, cols)), shape=(len(users), len(items)), dtype=dtype)
    m.sum_duplicates()
    m.sort_indices()
    return InteractionMatrix(m, users, items)


def basket_matrix(prepared_raw: pd.DataFrame, items: pd.Index) -> sp.csr_matrix:
    """Binary basket x item matrix; baskets come from ``basket_id`` (rows without one are left out) or,
    when no row has a basket id, the user."""
    key = (
        "basket_id"
        if "basket_id" in prepared_raw.columns and prepared_raw["basket_id"].notna().any()
        else "user_id"
    )
    df = prepared_raw[["user_id", "item_id"] + ([key] if key != "user_id" else [])]
    if key != "user_id":
        # Rows without a basket (views, cart adds beside the orders) are no basket: a member's whole
        # history as one basket made "bought together" rules out of things never bought together.
        df = df[df[key].notna()]
    bkey = df[key]
    codes, _ = pd.factorize(bkey)
    cols = items.get_indexer(df["item_id"])
    ok = cols >= 0
    m = sp.csr_matrix(
        (np.ones(ok.sum(), np.float32), (codes[ok], cols[ok])),
        shape=(codes.max() + 1 if len(codes) else 0, len(items)),
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m
