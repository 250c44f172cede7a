"""Engine quality: every model with its defaults + the tuned Hybrid, random 75/25 per-user split, k=10.

    .venv/bin/python bench/engine_quality.py [--data retail|movielens|both] [--seed 42] [--k 10]

online-retail-40k: /work/shared/data/online-retail-40k.csv via recommender.algorithms.datasets.
movielens-like: bench/gen_interactions.movielens_like (943 x 1682, 100k rows) with generator
seeds 0 and 1 — a stand-in for MovieLens-100k, which is not available offline. Defaults were
picked on validation splits (bench/engine_defaults.py); Hybrid(tune=True) tunes on a validation
split carved from the training part; the test part is only used for the numbers printed here.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from recommender.algorithms import (  # noqa: E402
    EASE,
    AssociationRules,
    Hybrid,
    ItemKNN,
    Popularity,
    PureSVD,
    TfidfContent,
    UserKNN,
    evaluate_models,
    random_split,
)


def models(seed, with_items):
    m = {
        "Popularity": Popularity(),
        "ItemKNN": ItemKNN(),
        "UserKNN": UserKNN(),
        "EASE": EASE(),
        "PureSVD": PureSVD(random_state=seed),
        "AssociationRules": AssociationRules(),
    }
    if with_items:
        m["TfidfContent"] = TfidfContent()
    m["Hybrid (tune=True)"] = Hybrid(tune=True, random_state=seed)
    return m


def datasets(which):
    if which in ("retail", "both"):
        from recommender.algorithms.datasets import load_online_retail

        inter, items = load_online_retail("/work/shared/data/online-retail-40k.csv")
        yield "online-retail-40k", inter, items
    if which in ("movielens", "both"):
        from gen_interactions import movielens_like

        for s in (0, 1):
            yield f"movielens-like (generator seed {s})", movielens_like(seed=s), None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="both", choices=["retail", "movielens", "both"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    print(
        f"<!-- {platform.node()} cpus={os.cpu_count()} python={platform.python_version()} "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} load={os.getloadavg()[0]:.1f} -->"
    )
    for name, inter, items in datasets(a.data):
        train, test = random_split(inter, 0.25, a.seed)
        ms = models(a.seed, items is not None)
        table = evaluate_models(train, test, ms, k=a.k, items=items)
        hyb = ms["Hybrid (tune=True)"]
        print(
            f"\n### {name}: {inter.user_id.nunique()} users, {inter.item_id.nunique()} items, "
            f"{len(inter)} rows; random 75/25 per user, seed {a.seed}, k={a.k}\n"
        )
        cols = [
            "precision",
            "recall",
            "ndcg",
            "map",
            "hit_rate",
            "coverage",
            "fit_seconds",
            "recommend_seconds",
        ]
        print(
            "| model | "
            + " | ".join(c.replace("_seconds", " s") + (f"@{a.k}" if c in cols[:5] else "") for c in cols)
            + " |"
        )
        print("|---" * (len(cols) + 1) + "|")
        for m, row in table.iterrows():
            if isinstance(row["error"], str):
                print(f"| {m} | unavailable: {row['error']} |")
                continue
            print(
                f"| {m} | "
                + " | ".join(
                    f"{row[c]:.4f}" if c not in ("fit_seconds", "recommend_seconds") else f"{row[c]:.1f}"
                    for c in cols
                )
                + " |"
            )
        print(
            f"\nHybrid weights: { {k: round(v, 3) for k, v in hyb.weights_.items()} }; "
            f"tuned params: {hyb.best_params_}"
        )
        single = table.drop(index="Hybrid (tune=True)")
        for metric in ("precision", "ndcg"):
            best = single[metric].idxmax()
            print(
                f"Hybrid {metric}@{a.k} {table.loc['Hybrid (tune=True)', metric]:.4f} vs best single "
                f"{best} {single.loc[best, metric]:.4f}; vs Popularity {single.loc['Popularity', metric]:.4f}"
            )


if __name__ == "__main__":
    main()
