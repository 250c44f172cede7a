"""Honest selection: every model tuned with the same budget on validation, the Hybrid against each on test.

    .venv/bin/python bench/engine_selection.py [--data movielens|retail|demo|all] [--protocol temporal|random]

The nightly run's own protocol (recommender.engine.models_evaluate): test = each user's latest 20% of
items (temporal), validation cut the same way from the rest; every model tuned on validation with
engine.TUNING_GRID (the same budget each, the Hybrid's blend on top), the serving model chosen on
validation, test precision@10 measured once. Per model: validation nDCG@10 (what tuning and the choice use), test precision@10 and the
paired bootstrap 95% interval (per user, 1,000 resamples, seed 42) of Hybrid − model on test.
``demo`` reads the shop's database (DATABASE_URL) through the nightly run's frames.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
RETAIL = ROOT.parent / "shared" / "data" / "online-retail-40k.csv"


def data_set(name):
    if name == "movielens":
        from gen_interactions import movielens_like

        return movielens_like(), None
    if name == "retail":
        from recommender.algorithms.datasets import load_online_retail

        return load_online_retail(RETAIL)
    if name == "demo":
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        django.setup()
        from recommender.services.frames import interactions_frame, items_frame

        return interactions_frame(), items_frame()
    raise ValueError(name)


def run(name, protocol):
    from recommender import engine

    inter, items = data_set(name)
    started = time.perf_counter()
    ev = engine.models_evaluate(inter, items, engine.DEFAULT_MODELS, protocol=protocol)
    seconds = time.perf_counter() - started
    serving = engine.serving_model_choose(ev.metrics, engine.DEFAULT_MODELS)
    versus = engine.versus_serving(ev, "hybrid")
    k = engine.EVAL_K
    print(
        f"\n## {name}: {len(inter)} rows, {inter['user_id'].nunique()} users, {inter['item_id'].nunique()} items; "
        f"{protocol} protocol; {ev.metrics.get('hybrid', {}).get('n_users', 0)} test users; "
        f"served (chosen on validation): {serving}; {seconds:.0f} s"
    )
    print(
        f"| model | validation nDCG@{k} | test p@{k} | test purchase p@{k} | Hybrid − model [95% CI] | excludes 0 | "
        "parameters chosen |"
    )
    print("|---|---|---|---|---|---|---|")
    order = sorted(ev.metrics, key=lambda n: -ev.metrics[n].get(f"precision@{k}", -1))
    for model in order:
        m = ev.metrics[model]
        if "error" in m:
            print(f"| {model} | unavailable: {m['error']} | | | | | |")
            continue
        val = m.get(f"validation_ndcg@{k}")
        buy = m.get(f"precision_purchase@{k}")
        v = versus.get(model)
        ci = f"{v['diff']:+.4f} [{v['low']:+.4f}, {v['high']:+.4f}]" if v else "—"
        print(
            f"| {model} | {val:.4f} | {m[f'precision@{k}']:.4f} | "
            if val is not None
            else f"| {model} | — | {m[f'precision@{k}']:.4f} | ",
            end="",
        )
        print(f"{buy:.4f} | " if buy is not None else "— | ", end="")
        print(f"{ci} | {('yes' if v['excludes_zero'] else 'NO') if v else ''} | {m.get('params', '')} |")
    beaten = [n for n, v in versus.items() if not (v["excludes_zero"] and v["diff"] > 0)]
    print(
        f"\nHybrid beats every single model with a CI excluding 0: {'yes' if not beaten else 'NO — not ' + ', '.join(beaten)}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["movielens", "retail", "demo", "all"], default="all")
    parser.add_argument("--protocol", choices=["temporal", "random"], default="temporal")
    args = parser.parse_args()
    for name in ["movielens", "retail"] if args.data == "all" else [args.data]:
        run(name, args.protocol)


if __name__ == "__main__":
    main()
