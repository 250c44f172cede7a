"""Synthetic interaction generators: MovieLens-100k-shaped data for quality checks, big data for speed.

python bench/gen_interactions.py --kind speed --users 50000 --items 10000 --interactions 1000000 --out /tmp/i.csv
python bench/gen_interactions.py --kind movielens --out /tmp/ml.csv
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd


def _gumbel_top_k(logits: np.ndarray, k: int, rng) -> np.ndarray:
    g = logits - np.log(-np.log(rng.random(logits.shape)))
    return np.argpartition(-g, k - 1)[:k]


def movielens_like(
    n_users=943,
    n_items=1682,
    n_interactions=100_000,
    n_genres=19,
    dim=12,
    pop_strength=1.1,
    taste_strength=1.8,
    seed=0,
):
    """A 943 x 1682, ~100k-row frame shaped like MovieLens-100k (user_id, item_id, rating, timestamp).

    Items get a long-tailed popularity, 1-3 genres and a latent vector; users get genre tastes
    (Dirichlet), a latent vector and a long-tailed activity (>= 20 items, like ML-100k). Each user
    picks items without replacement with probability ~ exp(pop + taste): popularity explains part
    of the signal, personal taste the rest (roughly the gap between MostPop and good CF on ML-100k).
    """
    rng = np.random.default_rng(seed)
    pop = rng.normal(0.0, 1.0, n_items) * 1.5 * pop_strength
    genres = np.zeros((n_items, n_genres))
    for i in range(n_items):
        genres[i, rng.choice(n_genres, size=rng.integers(1, 4), replace=False)] = 1.0
    genre_pop = rng.dirichlet(np.full(n_genres, 0.6))
    item_vec = rng.normal(0.0, 1.0, (n_items, dim)) / np.sqrt(dim)
    user_vec = rng.normal(0.0, 1.0, (n_users, dim))
    taste = rng.dirichlet(np.full(n_genres, 0.3), size=n_users) * 0.5 + genre_pop * 0.5
    activity = rng.lognormal(0.0, 1.0, n_users)
    sizes = 20 + np.floor(activity / activity.sum() * (n_interactions - 20 * n_users)).astype(int)
    sizes = np.minimum(sizes, int(n_items * 0.44))
    while sizes.sum() < n_interactions:  # top up rounding losses on random users
        u = rng.integers(n_users)
        if sizes[u] < int(n_items * 0.44):
            sizes[u] += 1
    rows = []
    for u in range(n_users):
        affinity = item_vec @ user_vec[u] + np.log(genres @ taste[u] + 1e-3)
        logits = pop + taste_strength * affinity
        chosen = _gumbel_top_k(logits, sizes[u], rng)
        a = affinity[chosen]
        stars = np.clip(np.round(3.5 + (a - a.mean()) / (a.std() + 1e-9) + rng.normal(0, 0.8, len(a))), 1, 5)
        ts = 874_724_710 + np.sort(rng.integers(0, 18_000_000, len(chosen)))
        rows.append(
            pd.DataFrame(
                {"user_id": u + 1, "item_id": chosen + 1, "rating": stars.astype(int), "timestamp": ts}
            )
        )
    return pd.concat(rows, ignore_index=True)


def speed_interactions(n_users=50_000, n_items=10_000, n_interactions=1_000_000, seed=0, with_items=True):
    """Large long-tailed data for the speed benchmark: (interactions, items).

    Items follow a Zipf-like popularity within 50 categories; each user favours 1-3 categories.
    Vectorised, so 5M rows take seconds. Duplicate pairs are dropped, so the row count is close to
    (slightly below) ``n_interactions``; a few % of rows are repeated to keep it close.
    """
    rng = np.random.default_rng(seed)
    n_cat = 50
    item_cat = rng.integers(0, n_cat, n_items)
    rank = rng.permutation(n_items) + 1
    item_p = 1.0 / rank**0.9
    over = int(n_interactions * 1.15)
    users = rng.choice(n_users, size=over, p=(lambda a: a / a.sum())(rng.lognormal(0, 0.8, n_users)))
    user_cats = rng.integers(0, n_cat, (n_users, 3))
    own = rng.random(over) < 0.7
    cat = np.where(own, user_cats[users, rng.integers(0, 3, over)], rng.integers(0, n_cat, over))
    # sample an item within the category by popularity
    order = np.argsort(item_cat, kind="stable")
    starts = np.searchsorted(item_cat[order], np.arange(n_cat))
    ends = np.searchsorted(item_cat[order], np.arange(n_cat), side="right")
    cum = np.zeros(n_items)
    for c in range(n_cat):
        sl = order[starts[c] : ends[c]]
        p = np.cumsum(item_p[sl])
        cum[starts[c] : ends[c]] = p / p[-1]
    u01 = rng.random(over)
    pos = np.empty(over, dtype=np.int64)
    for c in range(n_cat):
        m = cat == c
        pos[m] = starts[c] + np.minimum(
            np.searchsorted(cum[starts[c] : ends[c]], u01[m]), ends[c] - starts[c] - 1
        )
    items_chosen = order[pos]
    df = pd.DataFrame({"user_id": users, "item_id": items_chosen}).drop_duplicates().head(n_interactions)
    df["timestamp"] = 1_600_000_000 + rng.integers(0, 30_000_000, len(df))
    df = df.reset_index(drop=True)
    items = None
    if with_items:
        words = np.array([f"w{j}" for j in range(2000)])
        cat_words = rng.integers(0, 2000, (n_cat, 6))
        titles = [
            " ".join(
                np.concatenate([words[cat_words[c][rng.integers(0, 6, 2)]], words[rng.integers(0, 2000, 2)]])
            )
            for c in item_cat
        ]
        items = pd.DataFrame(
            {"item_id": np.arange(n_items), "title": titles, "category": [f"cat{c}" for c in item_cat]}
        )
    return df, items


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["speed", "movielens"], default="speed")
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--items-out")
    a = ap.parse_args()
    if a.kind == "movielens":
        df, items = movielens_like(seed=a.seed), None
    else:
        df, items = speed_interactions(a.users, a.items, a.interactions, a.seed)
    df.to_csv(a.out, index=False)
    if items is not None and a.items_out:
        items.to_csv(a.items_out, index=False)
    print(f"{len(df)} interactions, {df.user_id.nunique()} users, {df.item_id.nunique()} items -> {a.out}")


if __name__ == "__main__":
    main()
