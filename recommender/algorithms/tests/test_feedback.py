"""Feedback learned: negative behaviour counts against an item, low stars are not interest, decay, tuning, repurchase."""

import numpy as np
import pandas as pd
import pytest

from recommender.algorithms.data import behaviour_weights, prepare_interactions, rating_weight
from recommender.algorithms.feedback import net_feedback, repurchase_intervals, still_fresh, tune_feedback

DAY = 86400.0


def _pairs(out):
    return {(r.user_id, r.item_id): r.weight for r in out.itertuples()}


def test_one_star_rating_is_not_a_positive():
    # given members who rated a product 1, 2, 3, 4 and 5 stars (nothing else)
    df = pd.DataFrame(
        {"user_id": [1, 2, 3, 4, 5], "item_id": ["a"] * 5, "event": ["rating"] * 5, "rating": [1, 2, 3, 4, 5]}
    )
    # when the rows are prepared
    got = _pairs(prepare_interactions(df))
    # then 1-2 stars are not learned at all (before: weight 1 and 2), 3 weak, 4-5 strong
    assert got == {(3, "a"): 1.0, (4, "a"): 4.0, (5, "a"): 5.0}


def test_a_one_star_review_cancels_the_purchase():
    df = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2],
            "item_id": ["a", "a", "a", "a"],
            "event": ["purchase", "rating"] * 2,
            "rating": [None, 1, None, 2],
        }
    )
    got = _pairs(prepare_interactions(df))
    assert got == {(2, "a"): 2.0}  # 5 - 3: bought and disliked, kept only as a weak signal


def test_negative_kinds_count_against_the_item():
    # given: favourite then unfavourite; cart add then removal; a view then "not interested"
    df = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 3, 3, 4],
            "item_id": ["a", "a", "b", "b", "c", "c", "d"],
            "event": [
                "favourite",
                "unfavourite",
                "cart_add",
                "cart_remove",
                "view",
                "not_interested",
                "view",
            ],
        }
    )
    got = _pairs(prepare_interactions(df))
    # then undoing a favourite cancels it, a removal weakens a cart add, "not interested" drops the view
    assert got == {(2, "b"): 1.0, (4, "d"): 1.0}


def test_sum_aggregate_keeps_negatives_separate():
    df = pd.DataFrame({"user_id": [1, 1, 1], "item_id": ["a"] * 3, "event": ["view", "view", "cart_remove"]})
    assert _pairs(prepare_interactions(df, aggregate="sum")) == {}  # 1 - 2 (exact duplicate rows are one)
    df.loc[3] = [1, "a", "purchase"]
    assert _pairs(prepare_interactions(df, aggregate="sum")) == {(1, "a"): 4.0}  # 1 + 5 - 2


def test_behaviour_weights_and_rating_weight():
    w = behaviour_weights(["view", "RATING", "rating", "unknown", "cart_remove"], [None, 5, None, None, 1])
    assert w.tolist() == [1.0, 5.0, 1.0, 1.0, -2.0]  # a rating without stars is neutral (3 -> 1)
    assert rating_weight(4.4) == 4.0 and rating_weight(0) == -5.0 and rating_weight(np.nan) == 1.0


def test_net_feedback_caps_rows_at_the_net_and_drops_negative_pairs():
    # given signed rows as the training frames build them
    frame = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 3],
            "item_id": [10, 10, 10, 20, 20, 30],
            "weight": [1.0, 3.0, -2.0, 4.0, -4.0, 5.0],
            "timestamp": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "kind": ["view", "cart_add", "cart_remove", "favourite", "unfavourite", "purchase"],
        }
    )
    out = net_feedback(frame, half_life_days=None)
    # then no negative row is left, the unfavourited pair is gone, and max per pair is the net
    assert (out["weight"] > 0).all() and set(out["kind"]) == {"view", "cart_add", "purchase"}
    assert out.groupby(["user_id", "item_id"])["weight"].max().to_dict() == {(1, 10): 1.0, (3, 30): 5.0}


def test_net_feedback_decays_from_now():
    frame = pd.DataFrame(
        {"user_id": [1, 2], "item_id": [1, 1], "weight": [4.0, 4.0], "timestamp": [0.0, 100 * DAY]}
    )
    out = net_feedback(frame, half_life_days=100.0, now=100 * DAY).set_index("user_id")["weight"]
    assert out[1] == pytest.approx(2.0) and out[2] == pytest.approx(4.0)


def test_a_recent_unfavourite_outweighs_an_old_favourite_with_decay():
    frame = pd.DataFrame(
        {"user_id": [1, 1], "item_id": [1, 1], "weight": [4.0, -3.0], "timestamp": [0.0, 100 * DAY]}
    )
    assert net_feedback(frame, half_life_days=None, now=100 * DAY)["weight"].tolist() == [1.0]
    assert net_feedback(frame, half_life_days=100.0, now=100 * DAY).empty  # 2 - 3


def _clustered(n_users=60, seed=0):
    """Two groups with a taste that changed: old rows of the other group's items, recent rows of their own."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        own, other = (u % 2) * 10, (1 - u % 2) * 10
        for i in rng.choice(10, 6, replace=False):
            rows.append((u, f"i{other + i}", "purchase", 0.0))
        for i in rng.choice(10, 6, replace=False):
            rows.append((u, f"i{own + i}", "view", 400 * DAY))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event", "timestamp"])


def test_tune_feedback_returns_the_best_candidate_first():
    # given taste that moved from one group of items to the other; validation asks for the new group
    train = _clustered()
    valid = pd.DataFrame(
        [(u, f"i{(u % 2) * 10 + i}") for u in range(60) for i in range(10)], columns=["user_id", "item_id"]
    )
    # when the half-life is tuned
    table = {"view": 1.0, "purchase": 5.0}
    result = tune_feedback(train, valid, tables={"t": table}, half_lives=(None, 30.0), k=4)
    # then decaying old behaviour wins, and every candidate is reported, best first
    assert result["half_life_days"] == 30.0 and result["table"] == "t"
    figures = result["figures"]
    assert len(figures) == 2 and figures[0]["precision"] > figures[1]["precision"]


def test_repurchase_intervals_median_per_item_else_category_else_default():
    # given item a bought again every 10 days by three members; item b (same category) once each;
    # item c in another category once
    rows = []
    for u in (1, 2, 3):
        rows += [(u, "a", d * DAY, "food") for d in (0, 10, 20)]
    rows += [(4, "b", 0.0, "food"), (5, "c", 0.0, "tools"), (5, "c", 0.0, "tools")]
    lines = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "category_id"])
    got = repurchase_intervals(lines, min_gaps=3, default_days=30.0)
    assert got == {"a": 10.0, "b": 10.0, "c": 30.0}
    assert "c" not in repurchase_intervals(lines, min_gaps=3, default_days=None)


def test_still_fresh_with_a_moved_clock():
    assert still_fresh(0.0, 10.0, 9 * DAY) and not still_fresh(0.0, 10.0, 10 * DAY)
