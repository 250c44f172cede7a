"""Matrix factorisation (implicit ALS / BPR) against EASE and the Hybrid with and without ALS.

    .venv/bin/python bench/engine_mf.py [--data retail|movielens|both]

Protocol as docs/BENCHMARKS_ENGINE.md: per-user random 75/25 split, seed 42, precision@10 via
evaluate_models. Every single model is tuned on a validation split carved from train (tune_model,
80/20 seed 42); the Hybrids tune themselves (tune=True) with NIGHTLY_GRID (+ ALS's nightly grid).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from recommender.algorithms import ALS, BPR, EASE, Hybrid, evaluate_models, random_split, tune_model  # noqa: E402
from recommender.algorithms.hybrid import NIGHTLY_GRID, default_components  # noqa: E402

GRIDS = {
    "als": (ALS, {"factors": [32, 64, 128], "regularization": [0.05, 1.0, 10.0], "alpha": [1.0, 5.0]}),
    "bpr": (BPR, {"factors": [32, 64], "learning_rate": [0.01, 0.05]}),
    "ease": (EASE, {"l2": [150.0, 300.0, 500.0, 1000.0, 2000.0]}),
}


def data_sets(which):
    if which in ("retail", "both"):
        from recommender.algorithms.datasets import load_online_retail

        inter, items = load_online_retail(ROOT.parent / "shared" / "data" / "online-retail-40k.csv")
        yield "online-retail-40k", inter, items
    if which in ("movielens", "both"):
        from gen_interactions import movielens_like

        yield "movielens-like (generator seed 0)", movielens_like(seed=0), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="both", choices=["retail", "movielens", "both"])
    args = ap.parse_args()
    for name, inter, items in data_sets(args.data):
        train, test = random_split(inter, 0.25, 42)
        models = {}
        for key, (cls, grid) in GRIDS.items():
            t0 = time.perf_counter()
            best, _ = tune_model(cls, grid, train, items=items, metric="precision", random_state=42)
            print(f"{name}: {key} tuned {best} in {time.perf_counter() - t0:.0f} s", flush=True)
            models[f"{key} (tuned)"] = cls(**best)
        no_mf = {n: m for n, m in default_components(items).items() if n not in ("als", "bpr")}
        models["hybrid without ALS/BPR"] = Hybrid(
            models=no_mf, tune=True, param_grid=NIGHTLY_GRID, random_state=42
        )
        models["hybrid with ALS"] = Hybrid(
            models={**no_mf, "als": ALS()}, tune=True, param_grid=NIGHTLY_GRID, random_state=42
        )
        models["hybrid with ALS+BPR (default)"] = Hybrid(tune=True, param_grid=NIGHTLY_GRID, random_state=42)
        res = evaluate_models(train, test, models, k=10, items=items)
        print(f"\n## {name}")
        print(
            res[["precision", "recall", "ndcg", "map", "coverage", "fit_seconds", "recommend_seconds"]]
            .round(4)
            .to_string()
        )
        for key in ("hybrid with ALS", "hybrid with ALS+BPR (default)"):
            print(key, "weights:", {n: w for n, w in models[key].weights_.items() if w > 0})
        print(flush=True)


if __name__ == "__main__":
    main()
