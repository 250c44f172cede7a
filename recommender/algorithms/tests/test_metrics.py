import numpy as np
import pandas as pd
import pytest

from recommender.algorithms import ItemKNN, Popularity
from recommender.algorithms.evaluation import (
    evaluate_models,
    kfold_split,
    metrics_from_hits,
    random_split,
    ranking_metrics,
    relevant_pairs,
    temporal_split,
    tune_model,
)


def test_metrics_hand_computed():
    # user A: 2 relevant, hits at ranks 1 and 3 of k=3; user B: 1 relevant, no hit
    m = metrics_from_hits(np.array([[1, 0, 1], [0, 0, 0]], bool), np.array([2, 1]), k=3)
    assert m["precision"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["recall"] == pytest.approx((1 + 0) / 2)
    idcg = 1 + 1 / np.log2(3)
    assert m["ndcg"] == pytest.approx(((1 + 1 / np.log2(4)) / idcg) / 2)
    assert m["map"] == pytest.approx(((1 + 2 / 3) / 2) / 2)
    assert m["hit_rate"] == 0.5
    p, r = m["precision"], m["recall"]
    assert m["f1"] == pytest.approx(2 * p * r / (p + r))


def test_ranking_metrics_ignores_seen_and_counts_coverage():
    train = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"]})
    test = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["b", "a", "b"]})  # (1,a) and (2,b) were seen
    rel = relevant_pairs(train, test)
    assert rel.values.tolist() == [[1, "b"]]
    recs = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["c", "b", "a"], "rank": [1, 2, 1]})
    m = ranking_metrics(recs, rel, k=2, n_items=4)
    assert m["n_users"] == 1 and m["precision"] == 0.5 and m["recall"] == 1.0
    assert m["coverage"] == pytest.approx(2 / 4)


def _frame(n_users=20, per_user=8):
    rng = np.random.default_rng(1)
    rows = [
        (u, int(i), t) for u in range(n_users) for t, i in enumerate(rng.choice(30, per_user, replace=False))
    ]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def test_random_split_per_user_75_25_and_seeded():
    df = _frame()
    tr, te = random_split(df, 0.25, 42)
    assert len(te) == 20 * 2 and len(tr) == 20 * 6
    assert te.groupby("user_id").size().eq(2).all()
    tr2, te2 = random_split(df, 0.25, 42)
    pd.testing.assert_frame_equal(te, te2)
    single = pd.DataFrame({"user_id": [1], "item_id": [1]})
    assert len(random_split(single)[1]) == 0


def test_temporal_split_leaves_last_out():
    df = _frame()
    tr, te = temporal_split(df)
    assert te.groupby("user_id").size().eq(1).all()
    assert (te["timestamp"] == 7).all()


def test_kfold_covers_each_pair_once():
    df = _frame()
    tests = [te for _, te in kfold_split(df, 4, 0)]
    assert sum(len(t) for t in tests) == len(df)
    assert not pd.concat(tests).duplicated(["user_id", "item_id"]).any()


def test_evaluate_models_table_and_tune():
    df = _frame(40, 10)
    tr, te = random_split(df)
    table = evaluate_models(tr, te, {"pop": Popularity(), "knn": ItemKNN(k=10)}, k=5)
    assert list(table.index) == ["pop", "knn"]
    assert {"precision", "ndcg", "fit_seconds", "recommend_seconds", "coverage"} <= set(table.columns)
    best, trials = tune_model(lambda **p: ItemKNN(**p), {"k": [5, 20]}, tr, k=5)
    assert best["k"] in (5, 20) and len(trials) == 2
