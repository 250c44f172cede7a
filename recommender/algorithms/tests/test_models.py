"""Hand-computed cases for every model (the 3-member, 6-product table and small variations)."""

import numpy as np
import pandas as pd
import pytest

from recommender.algorithms import (
    EASE,
    AssociationRules,
    Hybrid,
    ItemKNN,
    ModelUnavailable,
    Popularity,
    PureSVD,
    TfidfContent,
    UserKNN,
)


def recs_of(model, user, **kw):
    r = model.recommend([user], **kw)
    return r["item_id"].tolist()


def test_three_members_popularity_recommends_unseen_only(three_members):
    m = Popularity().fit(three_members)
    r = m.recommend([1], n=10)
    assert sorted(r["item_id"]) == [3, 4, 5, 6]
    assert r["rank"].tolist() == [1, 2, 3, 4] and (r["reason"] == "popular").all()
    assert r["score"].tolist() == [1.0] * 4


def test_three_members_disjoint_baskets_give_no_collaborative_recs(three_members):
    # Nobody shares a product, so neighbourhood models have nothing honest to say.
    for model in (ItemKNN(), UserKNN(), EASE(l2=1.0), AssociationRules(min_count=1)):
        m = model.fit(three_members)
        assert m.recommend([1, 2, 3], n=5).empty, type(model).__name__


def test_three_members_item_similarity(three_members):
    m = ItemKNN(shrinkage=0.0).fit(three_members)
    s = m.similar_items([1, 3], n=5)
    assert s[s.item_id == 1][["similar_item_id", "score"]].values.tolist() == [[2, 1.0]]
    assert s[s.item_id == 3]["similar_item_id"].tolist() == [4]
    rules = AssociationRules(min_count=1, min_confidence=0.0).fit(three_members).rules_
    r12 = rules[(rules.antecedent == 1) & (rules.consequent == 2)].iloc[0]
    assert (r12.support, r12.confidence, r12.lift) == pytest.approx((1 / 3, 1.0, 3.0))
    assert len(rules) == 6


def test_itemknn_hand_computed_scores_and_reason():
    # users: a={1,2}, b={1,2,3}, c={2,3}; item cosines: s(1,2)=2/sqrt(2*3), s(2,3)=2/sqrt(6), s(1,3)=1/2
    df = pd.DataFrame({"user_id": ["a", "a", "b", "b", "b", "c", "c"], "item_id": [1, 2, 1, 2, 3, 2, 3]})
    m = ItemKNN(shrinkage=0.0).fit(df)
    r = m.recommend(["a"], n=5)
    assert r["item_id"].tolist() == [3]
    assert r["score"].iloc[0] == pytest.approx(0.5 + 2 / np.sqrt(6), rel=1e-5)
    assert r["reason"].iloc[0] == "similar_to_seen" and r["reason_item_id"].iloc[0] == 2
    r = m.recommend(["c"], n=5)
    assert r["item_id"].tolist() == [1] and r["score"].iloc[0] == pytest.approx(
        2 / np.sqrt(6) + 0.5, rel=1e-5
    )


def test_itemknn_adjusted_cosine_runs():
    df = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [1, 2, 1, 2, 1], "weight": [5, 1, 4, 2, 3]})
    m = ItemKNN(similarity="adjusted_cosine", shrinkage=0).fit(df)
    assert m.similarity_.shape == (2, 2)


def test_userknn_hand_computed():
    # u1={1,2}, u2={1,2,3}, u3={4}: sim(u1,u2)=2/sqrt(6); u1 gets item 3 from u2 only.
    df = pd.DataFrame({"user_id": [1, 1, 2, 2, 2, 3], "item_id": [1, 2, 1, 2, 3, 4]})
    m = UserKNN(shrinkage=0.0).fit(df)
    r = m.recommend([1], n=5)
    assert r["item_id"].tolist() == [3]
    assert r["score"].iloc[0] == pytest.approx(2 / np.sqrt(6), rel=1e-5)
    assert r["reason"].iloc[0] == "neighbours_liked"
    mp = UserKNN(similarity="pearson", shrinkage=0.0).fit(df)
    expected = np.corrcoef(np.array([[1, 1, 0, 0], [1, 1, 1, 0]]))[0, 1]
    assert mp.recommend([1])["score"].iloc[0] == pytest.approx(expected, rel=1e-5)


def test_ease_hand_computed():
    df = pd.DataFrame({"user_id": ["a", "a", "b", "b", "b", "c", "c"], "item_id": [1, 2, 1, 2, 3, 2, 3]})
    lam = 1.0
    m = EASE(l2=lam).fit(df)
    x = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], float)
    p = np.linalg.inv(x.T @ x + lam * np.eye(3))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0)
    np.testing.assert_allclose(m.weights_, b, rtol=1e-4, atol=1e-5)
    r = m.recommend(["a"])
    assert r["item_id"].tolist() == [3] and r["score"].iloc[0] == pytest.approx((x[0] @ b)[2], rel=1e-4)


def test_ease_refuses_large_catalogue(three_members):
    with pytest.raises(ModelUnavailable):
        EASE(max_items=5).fit(three_members)


def test_popularity_half_life_prefers_recent():
    df = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4],
            "item_id": ["old", "old", "new", "x"],
            "timestamp": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-03-01", "2020-02-01"]),
        }
    )
    assert Popularity().fit(df).recommend(["z"], n=1)["item_id"].tolist() == ["old"]
    assert Popularity(half_life_days=7).fit(df).recommend(["z"], n=1)["item_id"].tolist() == ["new"]


def test_association_rules_baskets_and_lift():
    # baskets: {A,B}, {A,B}, {A,C}, {B}: conf(A->B)=2/3, support=2/4, lift=(2/3)/(3/4)
    df = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2, 2, 3],
            "item_id": ["A", "B", "A", "B", "A", "C", "B"],
            "basket_id": ["k1", "k1", "k2", "k2", "k3", "k3", "k4"],
        }
    )
    m = AssociationRules(min_count=1, min_confidence=0.0).fit(df)
    r = m.rules_.set_index(["antecedent", "consequent"])
    assert r.loc[("A", "B")].tolist() == pytest.approx([0.5, 2 / 3, (2 / 3) / 0.75])
    assert r.loc[("C", "A"), "confidence"] == pytest.approx(1.0)
    s = m.similar_items(["A"], n=5)
    assert s["similar_item_id"].tolist() == ["B", "C"]
    rec = m.recommend([2], n=5)
    assert rec["item_id"].tolist() == ["B"] and rec["reason"].iloc[0] == "bought_together"
    assert rec["reason_item_id"].iloc[0] in ("A", "C")
    assert AssociationRules(min_count=2).fit(df).rules_[["antecedent", "consequent"]].values.tolist() == [
        ["A", "B"],
        ["B", "A"],
    ]


def test_tfidf_content_jieba_and_char(small_world):
    inter, items = small_world
    for tok in ("jieba", "char"):
        m = TfidfContent(tokenizer=tok).fit(inter, items)
        s = m.similar_items(["p0"], n=3)
        # p0 is a red dress (红色连衣裙): its nearest items are dresses too (p4, p8, ...)
        assert all(int(x[1:]) % 4 == 0 for x in s["similar_item_id"]), tok
        r = m.recommend(["u0"], n=3)
        assert (r["reason"] == "content_match").all() and r["reason_item_id"].notna().all()


def test_tfidf_hand_computed_cosine():
    # smooth idf = 1 + ln((1 + n) / (1 + df)); "red" is in 2 of 3 titles, the others in 1
    items = pd.DataFrame({"item_id": ["A", "B", "C"], "title": ["red dress", "red shirt", "blue jeans"]})
    inter = pd.DataFrame({"user_id": [1], "item_id": ["A"]})
    m = TfidfContent().fit(inter, items)
    red, rare = 1 + np.log(4 / 3), 1 + np.log(2)
    s = m.similar_items(["A"], n=5)
    assert s["similar_item_id"].tolist() == ["B"]
    assert s["score"].iloc[0] == pytest.approx(red**2 / (red**2 + rare**2), rel=1e-5)
    r = m.recommend([1], n=5)
    assert r["item_id"].tolist() == ["B"] and r["reason_item_id"].iloc[0] == "A"


def test_jieba_segments_chinese():
    from recommender.algorithms.models import char_ngram_tokenize, jieba_tokenize

    assert "连衣裙" in jieba_tokenize("红色连衣裙 Summer")
    assert "summer" in jieba_tokenize("红色连衣裙 Summer")
    assert {"红", "红色", "<su"} <= set(char_ngram_tokenize("红色 Summer"))


def test_content_needs_items(three_members):
    with pytest.raises(ModelUnavailable):
        TfidfContent().fit(three_members)


def test_cold_items_from_catalogue_can_be_recommended_by_content(small_world):
    inter, items = small_world
    m = TfidfContent().fit(inter, items)
    assert {"p40", "p41"} <= set(m.item_ids_)


def test_pure_svd_recovers_block_structure():
    df = pd.DataFrame(
        [(u, i) for u in range(10) for i in range(5) if (u + i) % 5 != 0]
        + [(u, i) for u in range(10, 20) for i in range(5, 10) if (u + i) % 5 != 0],
        columns=["user_id", "item_id"],
    )
    m = PureSVD(factors=2).fit(df)
    r = m.recommend([0], n=1)
    assert r["item_id"].tolist() == [0]


def test_hybrid_falls_back_and_explains(small_world):
    inter, items = small_world
    m = Hybrid().fit(inter, items)
    unknown = m.recommend(["stranger"], n=5)
    assert len(unknown) == 5 and (unknown["reason"] == "popular").all()
    r = m.recommend(["u1"], n=5)
    assert set(r["reason"]) <= {
        "similar_to_seen",
        "neighbours_liked",
        "content_match",
        "bought_together",
        "popular",
    }
    assert "ease" in m.components_ and set(m.weights_) == set(m.components_)


def test_hybrid_tune_is_deterministic(small_world):
    inter, items = small_world
    grid = {"itemknn": {"k": [5, 20]}, "ease": {"l2": [1.0, 10.0]}}
    a = Hybrid(tune=True, param_grid=grid, random_state=3).fit(inter, items)
    b = Hybrid(tune=True, param_grid=grid, random_state=3).fit(inter, items)
    assert a.weights_ == b.weights_ and a.best_params_ == b.best_params_
    pd.testing.assert_frame_equal(a.recommend(None, n=5), b.recommend(None, n=5))
    assert a.tuning_ is not None and len(a.tuning_)


def test_hybrid_skips_ease_when_too_large(small_world):
    inter, items = small_world
    m = Hybrid(models={"ease": EASE(max_items=3), "itemknn": ItemKNN()}).fit(inter, items)
    assert "ease" in m.unavailable_ and "itemknn" in m.components_


def test_hybrid_rank_fusion(small_world):
    inter, items = small_world
    r = Hybrid(fusion="rank").fit(inter, items).recommend(["u2"], n=4)
    assert r["rank"].tolist() == [1, 2, 3, 4]


def test_hybrid_threaded_fit_in_fresh_interpreter():
    # Regression: component fits run in threads; lazy scikit-learn imports inside fit() raced.
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import pandas as pd\n"
        "from recommender.algorithms import Hybrid\n"
        "inter = pd.DataFrame({'user_id': [1, 1, 2, 2, 3], 'item_id': ['a', 'b', 'b', 'c', 'a']})\n"
        "items = pd.DataFrame({'item_id': ['a', 'b', 'c'], 'title': ['red cup', 'blue cup', 'red plate']})\n"
        "m = Hybrid(n_jobs=2).fit(inter, items)\n"
        "assert {'content', 'svd', 'ease'} <= set(m.components_), m.components_\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
