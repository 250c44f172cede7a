"""One contract test for every model: shape, columns, ranks, no seen items, n, unknown users, determinism."""
import pickle

import numpy as np
import pandas as pd
import pytest

from recommender.algorithms import (EASE, AssociationRules, Hybrid, ItemKNN, Popularity, PureSVD, TfidfContent,
                                    UserKNN)

MODELS = {
    "popularity": lambda: Popularity(half_life_days=30),
    "itemknn": lambda: ItemKNN(k=20),
    "userknn": lambda: UserKNN(k=10),
    "tfidf": lambda: TfidfContent(),
    "rules": lambda: AssociationRules(min_count=1),
    "ease": lambda: EASE(l2=10.0),
    "svd": lambda: PureSVD(factors=4),
    "hybrid": lambda: Hybrid(),
}
REC_COLUMNS = ["user_id", "item_id", "score", "rank", "reason", "reason_item_id"]
CODES = {"similar_to_seen", "neighbours_liked", "popular", "content_match", "bought_together"}


def int_ids(inter, items):
    inter = inter.assign(user_id=inter.user_id.str[1:].astype(int), item_id=inter.item_id.str[1:].astype(int))
    return inter, items.assign(item_id=items.item_id.str[1:].astype(int))


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("ids", ["str", "int"])
def test_model_contract(name, ids, small_world):
    inter, items = small_world
    if ids == "int":
        inter, items = int_ids(inter, items)
    model = MODELS[name]()
    assert model.fit(inter, items=items) is model
    users = list(pd.unique(inter["user_id"]))[:25]
    unknown = "nobody" if ids == "str" else 10_000
    n = 5
    recs = model.recommend(users + [unknown], n=n, exclude_seen=True)
    assert list(recs.columns) == REC_COLUMNS
    assert recs.groupby("user_id").size().max() <= n
    for _, g in recs.groupby("user_id"):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
        assert g["score"].is_monotonic_decreasing
    assert not recs.duplicated(["user_id", "item_id"]).any()
    seen = set(map(tuple, inter[["user_id", "item_id"]].values))
    assert not any((u, i) in seen for u, i in recs[["user_id", "item_id"]].values)
    assert set(recs["reason"]) <= CODES
    assert set(recs["user_id"]) <= set(users) | {unknown}
    known = recs[recs.user_id != unknown]
    assert known["user_id"].nunique() >= 20, "most known users get recommendations"
    assert set(recs["item_id"]) <= set(items["item_id"])
    ok_reason = recs["reason_item_id"].dropna()
    assert set(ok_reason) <= set(inter["item_id"])
    if name in ("popularity", "hybrid"):
        assert (recs.user_id == unknown).sum() == n
    # dtypes follow the caller's ids
    assert isinstance(recs["item_id"].iloc[0], str) == (ids == "str")
    # n respected for larger n, and exclude_seen=False may return seen items but stays well-formed
    big = model.recommend(users[:3], n=50, exclude_seen=False)
    assert big.groupby("user_id").size().max() <= 50
    # determinism: a second fit gives identical output
    again = MODELS[name]().fit(inter, items=items).recommend(users + [unknown], n=n)
    pd.testing.assert_frame_equal(recs.reset_index(drop=True), again.reset_index(drop=True))
    # similar items
    some = list(pd.unique(inter["item_id"]))[:5]
    sims = model.similar_items(some + [unknown], n=3)
    assert list(sims.columns) == ["item_id", "similar_item_id", "score", "rank"]
    assert (sims["item_id"] != sims["similar_item_id"]).all()
    assert sims.groupby("item_id").size().max() <= 3 if len(sims) else True
    assert unknown not in set(sims["item_id"])
    # empty input and pickling
    assert model.recommend([], n=3).empty
    clone = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(clone.recommend(users[:5], n=n), model.recommend(users[:5], n=n))


def test_unfitted_model_raises():
    with pytest.raises(RuntimeError):
        ItemKNN().recommend([1])
