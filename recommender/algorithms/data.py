"""Data preparation: clean interaction frames, turn behaviour into weights, build sparse matrices."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

# Implicit strength of each behaviour; a rating event is weighted by its stars instead. The one table:
# the shop's training frames and near-real-time refresh read it too (the models were evaluated with it).
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
}
RATING_EVENTS = {"rating", "rate", "review"}


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
      * an ``event`` column: view 1, cart 3, favourite 4, purchase 5 (``event_weights`` overrides),
        rating/review events by their ``rating`` stars, unknown kinds 1;
      * a ``rating`` column without events, only when ``use_rating=True``;
      * otherwise 1 per row (implicit feedback). ``use_rating=None`` (default) means: a pure
        ratings file (MovieLens-like) is treated as implicit, because for top-N precision "the
        user interacted" is the signal and 1-2 star rows still mean interest.
    With ``half_life_days`` and a ``timestamp`` column the weight is multiplied by
    ``0.5 ** (age_days / half_life_days)`` where age is measured from ``now`` (default: the
    latest timestamp). The output keeps the latest ``timestamp`` of each pair and the first
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
        kinds = df["event"].astype("string").str.lower().str.strip()
        w = kinds.map(weights).astype("Float64").fillna(1.0).to_numpy(np.float64)
        if "rating" in df.columns:
            stars = pd.to_numeric(df["rating"], errors="coerce").to_numpy(np.float64)
            is_rating = kinds.isin(RATING_EVENTS).fillna(False).to_numpy(bool)
            use = is_rating & np.isfinite(stars)
            w = np.where(use, stars, w)
    elif "rating" in df.columns and use_rating:
        w = pd.to_numeric(df["rating"], errors="coerce").fillna(1.0).to_numpy(np.float64)
    else:
        w = np.ones(len(df), dtype=np.float64)

    has_ts = "timestamp" in df.columns
    secs = _as_seconds(df["timestamp"]) if has_ts else None
    if half_life_days is not None and has_ts and len(df):
        ref = _as_seconds(pd.Series([now]))[0] if now is not None else np.nanmax(secs)
        age_days = np.clip((ref - secs) / 86400.0, 0.0, None)
        age_days = np.where(np.isfinite(age_days), age_days, 0.0)
        w = w * np.power(0.5, age_days / float(half_life_days))

    out = pd.DataFrame({"user_id": df["user_id"].to_numpy(), "item_id": df["item_id"].to_numpy(), "weight": w})
    if has_ts:
        out["timestamp"] = secs
    if "basket_id" in df.columns:
        out["basket_id"] = df["basket_id"].to_numpy()
    out = out[out["weight"] > 0]
    agg = {"weight": aggregate}
    if has_ts:
        agg["timestamp"] = "max"
    if "basket_id" in out.columns:
        agg["basket_id"] = "first"
    out = out.groupby(["user_id", "item_id"], sort=False, as_index=False).agg(agg)
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
        return self.users.get_indexer(pd.Index(list(ids) if not isinstance(ids, (pd.Index, np.ndarray)) else ids))

    def item_cols(self, ids) -> np.ndarray:
        return self.items.get_indexer(pd.Index(list(ids) if not isinstance(ids, (pd.Index, np.ndarray)) else ids))

    @property
    def shape(self):
        return self.matrix.shape


def build_matrix(prepared: pd.DataFrame, item_ids=None, dtype=np.float32, item_index: pd.Index | None = None) -> InteractionMatrix:
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
    key = "basket_id" if "basket_id" in prepared_raw.columns and prepared_raw["basket_id"].notna().any() else "user_id"
    df = prepared_raw[["user_id", "item_id"] + ([key] if key != "user_id" else [])]
    if key != "user_id":
        # Rows without a basket (views, cart adds beside the orders) are no basket: a member's whole
        # history as one basket made "bought together" rules out of things never bought together.
        df = df[df[key].notna()]
    bkey = df[key]
    codes, _ = pd.factorize(bkey)
    cols = items.get_indexer(df["item_id"])
    ok = cols >= 0
    m = sp.csr_matrix((np.ones(ok.sum(), np.float32), (codes[ok], cols[ok])), shape=(codes.max() + 1 if len(codes) else 0, len(items)))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m
