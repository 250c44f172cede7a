"""Variety for member-facing lists (a category cap re-rank) and the beyond-accuracy figures that show it.

The re-rank is greedy and keeps score order: walk each user's candidates best first, take an item
while its category has fewer than ``cap`` items in the list, and only when the catalogue runs out of
other categories fill the rest with the best items skipped. The same function serves the nightly
tables and the refreshed lists, so what is measured is what is shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_CAP = 4


def rerank_category_cap(
    recs: pd.DataFrame,
    item_category,
    *,
    n: int = 12,
    cap: int | None = DEFAULT_CAP,
    user_col: str = "user_id",
    item_col: str = "item_id",
) -> pd.DataFrame:
    """At most ``cap`` items per category in each user's top ``n`` (where the candidates allow).

    ``recs`` holds candidates ranked best first per user (a ``rank`` or ``score`` column, or row
    order); ``item_category`` maps item id -> category (a dict or Series; unknown items form their
    own category each, so they are never held back). Returns the kept rows, ranks renumbered 1..n.
    """
    if recs.empty or not cap:
        out = recs.groupby(user_col, sort=False).head(n).copy() if not recs.empty else recs.copy()
        if not out.empty:
            out["rank"] = out.groupby(user_col, sort=False).cumcount() + 1
        return out
    frame = recs.copy()
    frame["_order"] = np.arange(len(frame))
    if "rank" in frame.columns:
        frame = frame.sort_values([user_col, "rank", "_order"], kind="stable")
    elif "score" in frame.columns:
        frame = frame.sort_values([user_col, "score", "_order"], ascending=[True, False, True], kind="stable")
    frame["_order"] = np.arange(len(frame))  # the ranked order (not the input's row order) decides below
    mapping = (
        item_category if isinstance(item_category, pd.Series) else pd.Series(item_category, dtype=object)
    )
    categories = frame[item_col].map(mapping)
    # An item of unknown category counts as a category of its own.
    categories = categories.where(categories.notna(), "__item__" + frame[item_col].astype(str))
    frame["_cat_rank"] = frame.groupby([frame[user_col], categories.values], sort=False).cumcount()
    frame["_overflow"] = frame["_cat_rank"] >= cap
    frame = frame.sort_values([user_col, "_overflow", "_order"], kind="stable")
    out = frame.groupby(user_col, sort=False).head(n)
    # Users in their first-seen order; within a user the items under the cap first, then the fill.
    first_seen = {u: i for i, u in enumerate(pd.unique(recs[user_col]))}
    out = out.assign(_user_order=out[user_col].map(first_seen))
    out = out.sort_values(["_user_order", "_overflow", "_order"], kind="stable")
    out["rank"] = out.groupby(user_col, sort=False).cumcount() + 1
    return out.drop(columns=["_order", "_cat_rank", "_overflow", "_user_order"]).reset_index(drop=True)


def max_category_share(
    recs: pd.DataFrame, item_category, *, user_col="user_id", item_col="item_id"
) -> pd.Series:
    """Per user: how many items of their list come from their most frequent category."""
    if recs.empty:
        return pd.Series(dtype=int)
    mapping = (
        item_category if isinstance(item_category, pd.Series) else pd.Series(item_category, dtype=object)
    )
    cats = recs[item_col].map(mapping).fillna("__unknown__")
    return recs.assign(_cat=cats.values).groupby([user_col, "_cat"]).size().groupby(level=0).max()


def beyond_accuracy(
    recs: pd.DataFrame,
    item_category,
    item_popularity,
    *,
    n_categories: int | None = None,
    long_tail_share: float = 0.8,
    cap: int = DEFAULT_CAP,
    user_col="user_id",
    item_col="item_id",
) -> dict:
    """Figures for a set of lists: intra-list diversity (share of item pairs from different
    categories), category coverage, novelty (mean self-information of the items, bits), share of
    long-tail items (outside the most popular items that make ``long_tail_share`` of interactions)
    and the share of lists with more than ``cap`` items of one category."""
    if recs.empty:
        return {
            "intra_list_diversity": 0.0,
            "category_coverage": 0.0,
            "novelty": 0.0,
            "long_tail_share": 0.0,
            "over_cap_share": 0.0,
            "lists": 0,
        }
    mapping = (
        item_category if isinstance(item_category, pd.Series) else pd.Series(item_category, dtype=object)
    )
    cats = recs[item_col].map(mapping).fillna("__unknown__")
    frame = recs.assign(_cat=cats.values)
    per_list = frame.groupby([user_col, "_cat"]).size()
    sizes = frame.groupby(user_col).size()
    same_pairs = (per_list * (per_list - 1) / 2).groupby(level=0).sum()
    all_pairs = sizes * (sizes - 1) / 2
    valid = all_pairs > 0
    ild = float((1 - same_pairs[valid] / all_pairs[valid]).mean()) if valid.any() else 0.0
    total_categories = n_categories or max(1, mapping.nunique())
    coverage = float(frame["_cat"].nunique() / total_categories)
    pop = (
        item_popularity if isinstance(item_popularity, pd.Series) else pd.Series(item_popularity, dtype=float)
    )
    pop = pop[pop > 0]
    share = pop / pop.sum() if len(pop) else pop
    info = -np.log2(recs[item_col].map(share).fillna(share.min() if len(share) else 1.0).astype(float))
    ordered = share.sort_values(ascending=False)
    head = set(ordered.index[: int(np.searchsorted(ordered.cumsum().to_numpy(), long_tail_share) + 1)])
    tail = float((~recs[item_col].isin(head)).mean())
    over = float((per_list.groupby(level=0).max() > cap).mean())
    return {
        "intra_list_diversity": round(ild, 4),
        "category_coverage": round(coverage, 4),
        "novelty": round(float(info.mean()), 4),
        "long_tail_share": round(tail, 4),
        "over_cap_share": round(over, 4),
        "lists": int(len(sizes)),
    }
