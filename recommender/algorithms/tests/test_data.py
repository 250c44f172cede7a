import numpy as np
import pandas as pd
import pytest

from recommender.algorithms.data import build_matrix, prepare_interactions


def test_event_weights_duplicates_and_missing_ids():
    df = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2, None, 3],
            "item_id": ["a", "a", "b", "b", "a", "a", None],
            "event": ["view", "purchase", "cart", "cart", "favourite", "view", "view"],
        }
    )
    out = prepare_interactions(df)
    got = {(r.user_id, r.item_id): r.weight for r in out.itertuples()}
    assert got == {(1, "a"): 5.0, (1, "b"): 3.0, (2, "a"): 4.0}


def test_rating_events_use_stars_and_sum_aggregate():
    df = pd.DataFrame(
        {
            "user_id": [1, 1, 2],
            "item_id": [1, 1, 1],
            "event": ["rating", "view", "rating"],
            "rating": [5, None, 4],
        }
    )
    out = prepare_interactions(df, aggregate="sum").set_index("user_id")["weight"]
    # 2 stars used to train as weight 2; low stars now count against the item (test_feedback.py)
    assert out[1] == 6.0 and out[2] == 4.0


def test_plain_ratings_are_implicit_unless_asked():
    df = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "rating": [1, 5]})
    assert prepare_interactions(df)["weight"].tolist() == [1.0, 1.0]
    assert prepare_interactions(df, use_rating=True)["weight"].tolist() == [1.0, 5.0]


def test_time_decay_half_life():
    df = pd.DataFrame(
        {"user_id": [1, 2], "item_id": [1, 1], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11"])}
    )
    out = prepare_interactions(df, half_life_days=10).set_index("user_id")["weight"]
    assert out[2] == pytest.approx(1.0) and out[1] == pytest.approx(0.5)


def test_unknown_items_dropped_when_catalogue_given():
    df = pd.DataFrame({"user_id": [1, 1], "item_id": [1, 99]})
    out = prepare_interactions(df, items=pd.DataFrame({"item_id": [1, 2]}))
    assert out["item_id"].tolist() == [1]


def test_build_matrix_mappings_both_ways():
    pairs = pd.DataFrame({"user_id": ["x", "y", "x"], "item_id": [10, 20, 20], "weight": [1.0, 2.0, 3.0]})
    m = build_matrix(pairs, item_ids=[30])
    assert m.shape == (2, 3)
    assert list(m.users) == ["x", "y"] and list(m.items) == [10, 20, 30]
    assert m.user_rows(["y", "nobody"]).tolist() == [1, -1]
    assert m.item_cols([30, 10]).tolist() == [2, 0]
    np.testing.assert_array_equal(m.matrix.toarray(), [[1, 3, 0], [0, 2, 0]])
