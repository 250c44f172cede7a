"""The category cap keeps score order, holds the cap where the catalogue allows, and fills otherwise."""

import pandas as pd

from recommender.algorithms.diversity import beyond_accuracy, max_category_share, rerank_category_cap


def _recs(user, items):
    return pd.DataFrame(
        {
            "user_id": user,
            "item_id": items,
            "rank": range(1, len(items) + 1),
            "score": [1.0 - i / 100 for i in range(len(items))],
        }
    )


def test_cap_holds_and_order_is_kept():
    cats = {i: "socks" for i in range(10)} | {i: f"c{i}" for i in range(10, 20)}
    recs = _recs(1, list(range(20)))  # the ten best are all socks
    out = rerank_category_cap(recs, cats, n=12, cap=4)
    assert list(out["item_id"]) == [0, 1, 2, 3, *range(10, 18)]
    assert list(out["rank"]) == list(range(1, 13))
    assert max_category_share(out, cats).max() == 4


def test_fills_with_skipped_items_when_the_catalogue_is_one_category():
    cats = {i: "socks" for i in range(20)}
    out = rerank_category_cap(_recs(1, list(range(20))), cats, n=12, cap=4)
    assert list(out["item_id"]) == list(range(12))


def test_users_stay_separate_and_unknown_items_are_not_held_back():
    cats = {i: "a" for i in range(6)}
    recs = pd.concat([_recs(1, [0, 1, 2, 3, 4, 5, 100, 101]), _recs(2, [5, 4, 200])])
    out = rerank_category_cap(recs, cats, n=6, cap=2)
    assert list(out[out.user_id == 1]["item_id"]) == [0, 1, 100, 101, 2, 3]
    assert list(out[out.user_id == 2]["item_id"]) == [5, 4, 200]


def test_beyond_accuracy_figures():
    cats = {0: "a", 1: "a", 2: "b", 3: "c"}
    pop = {0: 100, 1: 50, 2: 2, 3: 1}
    same = beyond_accuracy(_recs(1, [0, 1]), cats, pop, cap=1)
    mixed = beyond_accuracy(_recs(1, [2, 3]), cats, pop, cap=1)
    assert same["intra_list_diversity"] == 0.0 and mixed["intra_list_diversity"] == 1.0
    assert same["over_cap_share"] == 1.0 and mixed["over_cap_share"] == 0.0
    assert mixed["novelty"] > same["novelty"]
    assert mixed["long_tail_share"] > same["long_tail_share"]
