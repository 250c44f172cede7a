"""Intervals: paired bootstrap over users, clustered click-through intervals, and the selection protocol's splits."""

import numpy as np
import pandas as pd
import pytest

from recommender.algorithms import EASE, Hybrid
from recommender.algorithms.evaluation import per_user_precision, temporal_split
from recommender.algorithms.stats import (
    cluster_bootstrap_ratio_ci,
    clustered_ratio_interval,
    paired_bootstrap_ci,
    wilson_interval,
)


def test_paired_bootstrap_interval_excludes_zero_only_for_a_real_difference():
    rng = np.random.default_rng(0)
    base = rng.random(500)
    better = base + 0.05 + rng.normal(0, 0.02, 500)
    same = base + rng.normal(0, 0.02, 500)

    real = paired_bootstrap_ci(better, base)
    noise = paired_bootstrap_ci(same, base)

    assert real["excludes_zero"] and real["low"] > 0 and real["diff"] == pytest.approx(0.05, abs=0.01)
    assert not noise["excludes_zero"] and noise["low"] < 0 < noise["high"]
    assert real["n_resamples"] == 1000 and real["n_users"] == 500
    assert paired_bootstrap_ci(better, base) == real  # fixed seed: the same interval every time


def test_paired_bootstrap_aligns_series_by_user_and_counts_a_missing_user_as_zero():
    a = pd.Series([0.2, 0.1], index=["u1", "u2"])
    b = pd.Series([0.1], index=["u2"])
    out = paired_bootstrap_ci(a, b)
    assert out["n_users"] == 2 and out["diff"] == pytest.approx((0.2 + 0.0) / 2)


def test_per_member_interval_is_wider_than_per_impression_when_one_member_clicks_a_lot():
    # given 200 members with 50 impressions each: one clicks 40 times, the rest once in 50
    impressions = np.full(200, 50)
    clicks = np.ones(200)
    clicks[0] = 40

    per_impression = wilson_interval(int(clicks.sum()), int(impressions.sum()))
    per_member = clustered_ratio_interval(clicks, impressions)
    bootstrap = cluster_bootstrap_ratio_ci(clicks, impressions)

    # then the member-level intervals are wider: one member's 40 clicks are not 40 independent draws
    assert per_member["rate"] == pytest.approx(clicks.sum() / impressions.sum())
    assert per_member["high"] - per_member["low"] > 1.5 * (per_impression[1] - per_impression[0])
    assert bootstrap["high"] - bootstrap["low"] > 1.5 * (per_impression[1] - per_impression[0])


def test_clustered_interval_without_trials_or_with_one_member():
    assert clustered_ratio_interval([], [])["high"] == 0.0
    one = clustered_ratio_interval([3], [10])
    assert one["rate"] == 0.3 and one["low"] == 0.0 and one["high"] == 1.0


def test_temporal_share_split_holds_out_each_users_latest_pairs():
    df = pd.DataFrame(
        {
            "user_id": [1] * 10 + [2] * 2 + [3],
            "item_id": list(range(10)) + [0, 1, 5],
            "timestamp": list(range(10)) + [5, 1, 0],
        }
    )
    train, test = temporal_split(df, test_size=0.2)
    assert set(test[test.user_id == 1].item_id) == {8, 9}
    assert set(test[test.user_id == 2].item_id) == {0}  # the later of two
    assert 3 not in set(test.user_id)  # one item: train only
    assert len(train) + len(test) == len(df)


def test_per_user_precision_means_to_the_precision_and_keeps_users_without_hits():
    recs = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [5, 6, 7], "rank": [1, 2, 1]})
    relevant = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [6, 8, 9]})
    p = per_user_precision(recs, relevant, k=2)
    assert p.to_dict() == {1: 0.5, 2: 0.0, 3: 0.0}


def test_ease_binary_input_ignores_event_weights(small_world):
    interactions, _ = small_world
    weighted = interactions.assign(weight=np.where(interactions.index % 2 == 0, 5.0, 1.0))
    flat = interactions.assign(weight=1.0)
    a = EASE(l2=50.0, binary=True).fit(weighted).recommend(n=5)
    b = EASE(l2=50.0).fit(flat).recommend(n=5)
    pd.testing.assert_frame_equal(a, b)


def test_hybrid_tunes_on_a_temporal_validation_split(small_world):
    df, _ = small_world
    model = Hybrid(
        tune=True, validation="temporal", param_grid={"ease": {"l2": [50.0]}}, models=None, n_jobs=1
    ).fit(df)
    assert model.tuning_ is not None and len(model.tuning_)
    assert model.get_params()["validation"] == "temporal"
