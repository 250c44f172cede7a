"""Hybrid.from_fitted: blending models fitted once gives exactly what a self-fitting Hybrid gives."""

import pandas as pd
import pytest

from recommender.algorithms import (
    EASE,
    AssociationRules,
    Hybrid,
    ItemKNN,
    Popularity,
    PureSVD,
    TfidfContent,
    UserKNN,
)
from recommender.algorithms.base import TrainingData


def _fit_singles(inter, items, seed):
    data = TrainingData.from_frame(inter, items)
    return {
        "popularity": Popularity().fit_data(data, items),
        "itemknn": ItemKNN().fit_data(data, items),
        "userknn": UserKNN(random_state=seed).fit_data(data, items),
        "ease": EASE().fit_data(data, items),
        "svd": PureSVD(random_state=seed).fit_data(data, items),
        "rules": AssociationRules().fit_data(data, items),
        "content": TfidfContent().fit_data(data, items),
    }


@pytest.mark.parametrize("seed", [0, 42])
def test_from_fitted_recommends_exactly_what_a_self_fitting_hybrid_does(small_world, seed):
    # given the single models fitted once on shared training data
    inter, items = small_world
    singles = _fit_singles(inter, items, seed)
    # when a Hybrid blends them, and another Hybrid fits its own default components
    reused = Hybrid.from_fitted(singles, random_state=seed)
    own = Hybrid(random_state=seed).fit(inter, items)
    # then recommendations (scores, ranks, reasons) and similar items are identical
    users = list(inter["user_id"].unique()) + ["stranger"]
    pd.testing.assert_frame_equal(reused.recommend(users, n=10), own.recommend(users, n=10))
    pd.testing.assert_frame_equal(
        reused.similar_items(["p1", "p25"], n=5), own.similar_items(["p1", "p25"], n=5)
    )
    assert list(reused.components_) == list(own.components_)
    assert reused.weights_ == own.weights_


def test_from_fitted_with_custom_weights_matches_and_fits_popularity_itself(small_world):
    # given ItemKNN and EASE fitted separately with fit() on the same frames (no popularity given)
    inter, items = small_world
    weights = {"itemknn": 1.0, "ease": 0.5, "popularity": 0.1}
    comps = {"ease": EASE().fit(inter, items), "itemknn": ItemKNN().fit(inter, items)}
    # when blended
    reused = Hybrid.from_fitted(comps, weights=weights)
    own = Hybrid(models={"itemknn": ItemKNN(), "ease": EASE()}, weights=weights).fit(inter, items)
    # then it matches the self-fitting Hybrid, popularity included for unknown users
    assert "popularity" in reused.components_
    pd.testing.assert_frame_equal(reused.recommend(None, n=8), own.recommend(None, n=8))
    assert (reused.recommend(["stranger"], n=3)["reason"] == "popular").all()


def test_from_fitted_refuses_mismatched_or_unfitted_components(small_world):
    inter, items = small_world
    other = inter[inter["user_id"] != "u0"]
    with pytest.raises(ValueError, match="other users or items"):
        Hybrid.from_fitted({"itemknn": ItemKNN().fit(inter), "ease": EASE().fit(other)})
    with pytest.raises(ValueError, match="not fitted"):
        Hybrid.from_fitted({"itemknn": ItemKNN()})
    with pytest.raises(ValueError, match="tune"):
        Hybrid.from_fitted({"itemknn": ItemKNN().fit(inter)}, tune=True)


def test_from_fitted_lists_models_that_could_not_fit(small_world):
    inter, items = small_world
    m = Hybrid.from_fitted({"itemknn": ItemKNN().fit(inter, items), "ease": None})
    assert m.unavailable_ == {"ease": "not fitted"} and "itemknn" in m.components_
    assert len(m.recommend(["u1"], n=3)) == 3


def test_threaded_recommend_gives_the_same_rows_in_the_same_order(small_world):
    # given a Hybrid with small batches, so 60 users make several batches and two chunks
    inter, items = small_world
    threaded = Hybrid(n_jobs=2).fit(inter, items)
    threaded.batch_size = 7
    single = Hybrid(n_jobs=1).fit(inter, items)
    single.batch_size = 7
    users = list(inter["user_id"].unique()) + ["stranger"]
    # when both recommend for everyone
    # then the frames are identical (scores, ranks, reasons, order)
    pd.testing.assert_frame_equal(threaded.recommend(users, n=6), single.recommend(users, n=6))
    pd.testing.assert_frame_equal(threaded.recommend(None, n=6), single.recommend(None, n=6))


@pytest.mark.parametrize("n_jobs,backend", [(1, "thread"), (2, "thread"), (2, "fork")])
def test_recommend_many_equals_separate_recommend_calls(small_world, n_jobs, backend):
    # given single models fitted once and a Hybrid blending them, with small batches
    from recommender.algorithms.batch import recommend_many

    inter, items = small_world
    models = _fit_singles(inter, items, 42)
    models["hybrid"] = Hybrid.from_fitted(models)
    for m in models.values():
        m.batch_size = 9
    users = list(inter["user_id"].unique()) + ["stranger"]
    ease, calls = models["ease"], []
    ease_scores = ease._scores
    ease._scores = lambda rows: calls.append(len(rows)) or ease_scores(rows)
    # when every list is computed in one pass (Hybrid reusing the batch scores)
    together = recommend_many(models, users, n=7, n_jobs=n_jobs, backend=backend)
    # then EASE scored each batch once (for its own list), not twice
    if backend == "thread":  # forked workers count in their own copy
        assert len(calls) == -(-len(users) // 9)
    del ease._scores
    # then each frame equals what the model gives on its own
    for name, model in models.items():
        pd.testing.assert_frame_equal(together[name], model.recommend(users, n=7), obj=name)


def test_from_tuned_refits_with_the_tuned_choices_without_tuning_again(small_world):
    # given a Hybrid tuned on a validation split of the data (a small grid keeps the test fast)
    inter, items = small_world
    grid = {"itemknn": {"k": [5, 20]}, "ease": {"l2": [50.0, 500.0]}}
    tuned = Hybrid(tune=True, param_grid=grid, random_state=3).fit(inter, items)
    # when a Hybrid made from it fits the same data
    again = Hybrid.from_tuned(tuned, items=items).fit(inter, items)
    # then it skipped tuning, kept the weights and parameters, and recommends exactly the same
    assert again.tuning_ is None and not again.tune
    assert again.weights_ == tuned.weights_
    for name, params in tuned.best_params_.items():
        if name not in again.components_:  # weight 0 after the blend search: not fitted in either
            assert tuned.weights_.get(name, 0.0) == 0.0 and name not in tuned.components_
            continue
        for key, value in params.items():
            assert getattr(again.components_[name], key) == value
    users = list(inter["user_id"].unique())
    pd.testing.assert_frame_equal(again.recommend(users, n=10), tuned.recommend(users, n=10))


def test_from_tuned_refuses_an_unfitted_hybrid():
    with pytest.raises(ValueError):
        Hybrid.from_tuned(Hybrid())


def test_hybrid_reasons_come_from_the_scores_of_the_batch_they_explain(small_world):
    # given a Hybrid and two batches of users scored one after the other, before either is explained
    from recommender.algorithms.similarity import top_n_per_row

    inter, items = small_world
    model = Hybrid().fit(inter, items)
    first, second = (model.data_.user_rows(users) for users in (["u1", "u2", "u3"], ["u4", "u5"]))
    scored_first, scored_second = model._score_batch(first), model._score_batch(second)
    # when the first batch is explained last (no hand-over through per-thread state)
    model._seen_mask_apply(scored_first.scores, first)
    cols, _ = top_n_per_row(scored_first.scores, 4)
    codes, reason_cols = model._explain(scored_first, cols)
    # then the reasons are those recommend() gives for these users
    recs = model.recommend(["u1", "u2", "u3"], n=4)
    assert list(recs["reason"]) == list(codes.ravel())
    assert list(recs["reason_item_id"]) == [
        None if c < 0 else model.item_ids_[c] for c in reason_cols.ravel()
    ]
    assert set(scored_second.parts) == set(model.components_)
