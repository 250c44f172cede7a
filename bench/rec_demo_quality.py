"""Engine quality on the medium demo shop: every model, same protocol as the retail table (75/25, seed 42, k=10).

    .venv/bin/python bench/rec_demo_quality.py [--db /tmp/engine2-medium.sqlite3] [--no-tune] [--check-cli]

Seeds the demo database first when the file does not exist (`migrate` + `seed_demo --size medium
--seed 42`, about a minute), loads member behaviour and the catalogue through the Django side's
frame loader (`recommender.services.frames.interactions_frame` / `items_frame`, exactly what the
nightly run trains on), evaluates Popularity, ItemKNN, UserKNN, TfidfContent, AssociationRules,
EASE, PureSVD and Hybrid(tune=True) with `evaluate_models`, and writes the frames to
bench/out/demo-medium-{interactions,items}.csv. `--check-cli` then runs
`manage.py evaluate_recommender` on those CSVs and checks that it prints the same table.
Ids are turned into strings before evaluating, as the CSV loader reads them, so both paths see
identical input (same split, same tie order).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


# Cheaper ways to tune the nightly Hybrid (all on a validation split carved from training data).
from recommender.algorithms.hybrid import NIGHTLY_GRID as SMALL_GRID  # noqa: E402

HYBRID_VARIANTS = {
    "tune=False (default blend)": (False, None),
    "blend only (param_grid={})": (True, {}),
    "small grid + blend": (True, SMALL_GRID),
    "tune=True (full grid)": (True, None),
}


def seed_database(env):
    for cmd in (["migrate", "-v0"], ["seed_demo", "--size", "medium", "--seed", "42"]):
        subprocess.run([sys.executable, "manage.py", *cmd], cwd=ROOT, env=env, check=True)


def load_frames():
    import django
    import pandas as pd

    django.setup()
    from recommender.services.frames import interactions_frame, items_frame

    inter, items = interactions_frame(), items_frame()
    inter = inter[["user_id", "item_id", "weight", "timestamp", "basket_id"]].copy()
    inter["user_id"] = inter["user_id"].astype(str)
    inter["item_id"] = inter["item_id"].astype(str)
    inter["basket_id"] = inter["basket_id"].map(lambda b: None if pd.isna(b) else str(int(b)))
    items = items[["item_id", "title", "category", "brand", "description"]].copy()
    items["item_id"] = items["item_id"].astype(str)
    return inter, items


def markdown(table, k):
    cols = ["precision", "recall", "ndcg", "map", "hit_rate", "coverage", "fit_seconds"]
    lines = [
        "| model | "
        + " | ".join(
            f"{c}@{k}" if c not in ("coverage", "fit_seconds") else c.replace("_seconds", " s") for c in cols
        )
        + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for name, row in table.iterrows():
        if isinstance(row["error"], str) and row["error"]:
            lines.append(f"| {name} | unavailable: {row['error']} |")
            continue
        lines.append(
            f"| {name} | "
            + " | ".join(f"{row[c]:.1f}" if c == "fit_seconds" else f"{row[c]:.4f}" for c in cols)
            + " |"
        )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="/tmp/engine2-medium.sqlite3")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--no-tune", action="store_true", help="Hybrid with its default blend")
    ap.add_argument(
        "--hybrid-variants",
        action="store_true",
        help="compare Hybrid tuning options (none, blend only, small grid, full grid): quality and fit time",
    )
    ap.add_argument(
        "--time-tuning",
        action="store_true",
        help="time Hybrid fits on ALL the demo data (what the nightly run does) for each tuning option",
    )
    ap.add_argument(
        "--check-cli", action="store_true", help="also run manage.py evaluate_recommender on the CSVs"
    )
    a = ap.parse_args()

    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{a.db}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        LOG_LEVEL="WARNING",
    )
    os.environ.update(env)
    if not Path(a.db).exists():
        print(f"# seeding {a.db} (medium, seed 42)")
        seed_database(env)

    from recommender.algorithms import evaluate_models, random_split
    from recommender.algorithms.cli import MODEL_NAMES, build_models

    inter, items = load_frames()
    OUT.mkdir(parents=True, exist_ok=True)
    inter_csv, items_csv = OUT / "demo-medium-interactions.csv", OUT / "demo-medium-items.csv"
    inter.to_csv(inter_csv, index=False)
    items.to_csv(items_csv, index=False)

    print(
        f"<!-- {platform.node()} cpus={os.cpu_count()} python={platform.python_version()} "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} load={os.getloadavg()[0]:.1f} -->"
    )
    pairs = inter.drop_duplicates(["user_id", "item_id"])
    print(
        f"medium demo: {inter.user_id.nunique()} members, {inter.item_id.nunique()} products with behaviour "
        f"({len(items)} in the catalogue), {len(inter)} event rows, {len(pairs)} member-product pairs; "
        f"random 75/25 per user, seed {a.seed}, k={a.k}"
    )
    if a.time_tuning:
        import resource

        from recommender.algorithms import Hybrid

        for name, (tune, grid) in HYBRID_VARIANTS.items():
            c0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            Hybrid(tune=tune, param_grid=grid, random_state=a.seed).fit(inter, items)
            c1 = resource.getrusage(resource.RUSAGE_SELF)
            print(
                f"| hybrid {name} | {time.perf_counter() - t0:.1f} | "
                f"{c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime:.1f} | {os.getloadavg()[0]:.1f} |"
            )
        return
    train, test = random_split(inter, 0.25, a.seed)
    if a.hybrid_variants:
        from recommender.algorithms import Hybrid

        variants = {
            f"hybrid {name}": Hybrid(tune=tune, param_grid=grid, random_state=a.seed)
            for name, (tune, grid) in HYBRID_VARIANTS.items()
        }
        table = evaluate_models(train, test, variants, k=a.k, items=items)
        print(markdown(table, a.k))
        for name, model in variants.items():
            print(
                f"{name}: weights { {n: round(w, 3) for n, w in model.weights_.items()} }, params {model.best_params_}"
            )
        return
    models = build_models(MODEL_NAMES, a.seed, items_given=True, tune=not a.no_tune)
    table = evaluate_models(train, test, models, k=a.k, items=items)
    print(markdown(table, a.k))
    hyb = models["hybrid"]
    print(
        f"\nHybrid weights: { {n: round(w, 3) for n, w in hyb.weights_.items()} }; tuned params: {hyb.best_params_}"
    )
    single = table.drop(index="hybrid")
    for metric in ("precision", "ndcg"):
        best = single[metric].idxmax()
        h, b, p = table.loc["hybrid", metric], single.loc[best, metric], single.loc["popularity", metric]
        print(
            f"hybrid {metric}@{a.k} {h:.4f} vs best single {best} {b:.4f} ({(h / b - 1) * 100:+.0f} %), "
            f"vs popularity {p:.4f} ({(h / p - 1) * 100:+.0f} %)"
        )
    print(f"\nframes written to {inter_csv.relative_to(ROOT)} and {items_csv.relative_to(ROOT)}")

    if a.check_cli:
        cmd = [
            sys.executable,
            "manage.py",
            "evaluate_recommender",
            "--interactions",
            str(inter_csv),
            "--items",
            str(items_csv),
            "--k",
            str(a.k),
            "--seed",
            str(a.seed),
            "--json",
            str(OUT / "demo-cli.json"),
        ]
        if a.no_tune:
            cmd.append("--no-tune")
        print("$ " + " ".join(cmd[1:]))
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        print(out.stdout or out.stderr)
        import json

        cli = json.loads((OUT / "demo-cli.json").read_text())["results"]
        metrics = ["precision", "recall", "ndcg", "map", "hit_rate", "coverage"]
        diff = max(abs(cli[n][m] - table.loc[n, m]) for n in table.index for m in metrics)
        print(
            f"largest difference between the two tables: {diff:.2e} -> {'same table' if diff < 1e-9 else 'DIFFERENT'}"
        )


if __name__ == "__main__":
    main()
