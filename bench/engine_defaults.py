"""How the constructor defaults were chosen: grid search on VALIDATION splits carved from training data.

    .venv/bin/python bench/engine_defaults.py [--data retail|movielens|both]

For each data set: random 75/25 per-user split (seed 42) -> train; the test part is never used
here. Train is split again 80/20 (seed 7) into fit/validation and every grid point is scored
on validation (nDCG@10 and precision@10). The movielens-shaped data come from
bench/gen_interactions.py (two generator seeds, so defaults are not fitted to one sample).
"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from recommender.algorithms import (  # noqa: E402
    EASE,
    AssociationRules,
    ItemKNN,
    PureSVD,
    TfidfContent,
    UserKNN,
    random_split,
    tune_model,
)

GRIDS = {
    "ItemKNN": (ItemKNN, {"k": [50, 100, 200, 400], "shrinkage": [0.0, 10.0, 50.0]}),
    "UserKNN": (UserKNN, {"k": [25, 50, 100, 200], "shrinkage": [0.0, 10.0, 50.0]}),
    "EASE": (EASE, {"l2": [50.0, 150.0, 300.0, 600.0, 1000.0]}),
    "PureSVD": (PureSVD, {"factors": [8, 16, 32, 64, 128]}),
    "AssociationRules": (AssociationRules, {"min_count": [1, 2, 3], "metric": ["confidence", "lift"]}),
}
CONTENT = (TfidfContent, {"tokenizer": ["jieba", "char"], "title_weight": [1, 2]})


def datasets(which):
    if which in ("retail", "both"):
        from recommender.algorithms.datasets import load_online_retail

        inter, items = load_online_retail("/work/shared/data/online-retail-40k.csv")
        yield "online-retail-40k", inter, items
    if which in ("movielens", "both"):
        from gen_interactions import movielens_like

        for seed in (0, 1):
            yield f"movielens-like seed {seed}", movielens_like(seed=seed), None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="both", choices=["retail", "movielens", "both"])
    a = ap.parse_args()
    pd.set_option("display.width", 200)
    for name, inter, items in datasets(a.data):
        train, _test_never_used = random_split(inter, 0.25, 42)
        print(f"\n## {name}: validation split of the training data")
        grids = dict(GRIDS)
        if items is not None:
            grids["TfidfContent"] = CONTENT
        for model_name, (cls, grid) in grids.items():
            best, table = tune_model(cls, grid, train, items=items, k=10, metric="ndcg", random_state=7)
            cols = list(grid) + ["precision", "ndcg"]
            print(f"\n{model_name}: best {best}")
            print(table[cols].round(4).to_string(index=False))


if __name__ == "__main__":
    main()
