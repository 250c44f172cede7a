"""Engine speed: fit each model and produce the top 20 for every user; wall time and peak RSS.

    .venv/bin/python bench/engine_speed.py --interactions 1000000 [--models popularity,itemknn,...]

Each model runs in a fresh subprocess so its peak RSS (resource.getrusage, ru_maxrss) is its own;
the data are generated with bench/gen_interactions.py (50,000 users x 10,000 items by default).
Hybrid runs with tune=False (fixed default weights) and fits its own components.

    .venv/bin/python bench/engine_speed.py --nightly --interactions 1000000

``--nightly``: everything in ONE process, the way a nightly training run works: prepare the
training matrix once, fit every single model once on it (``--jobs`` threads), build the Hybrid from
the fitted models (``Hybrid.from_fitted``, nothing refitted), and produce the top 20 for every user
from every model (``batch.recommend_many``: Hybrid reuses each batch's component scores).
Reports each step, the total wall and CPU time, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

MODELS = ["popularity", "itemknn", "userknn", "ease", "svd", "rules", "content", "hybrid"]


def make(name):
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

    return {
        "popularity": Popularity,
        "itemknn": ItemKNN,
        "userknn": UserKNN,
        "ease": EASE,
        "svd": PureSVD,
        "rules": AssociationRules,
        "content": TfidfContent,
        "hybrid": Hybrid,
    }[name]()


def run_one(name, users, items, n_inter, n):
    from gen_interactions import speed_interactions

    df, item_frame = speed_interactions(users, items, n_inter, seed=0)
    model = make(name)
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    model.fit(df, items=item_frame)
    t1 = time.perf_counter()
    recs = model.recommend(None, n=n)
    t2 = time.perf_counter()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rss_mb = ru.ru_maxrss / 1024
    print(
        json.dumps(
            {
                "model": name,
                "rows": len(df),
                "users": int(df.user_id.nunique()),
                "items": items,
                "fit_s": round(t1 - t0, 2),
                "recommend_s": round(t2 - t1, 2),
                "total_s": round(t2 - t0, 2),
                "cpu_s": round(ru.ru_utime + ru.ru_stime - c0.ru_utime - c0.ru_stime, 1),
                "rec_rows": len(recs),
                "peak_rss_mb": round(rss_mb),
            }
        )
    )


NIGHTLY_SINGLES = ["popularity", "itemknn", "userknn", "ease", "svd", "rules", "content"]


def run_nightly(users, items, n_inter, n, jobs, backend="thread"):
    """Fit each single model once, Hybrid reusing them, top-n for every user from every model."""
    from concurrent.futures import ThreadPoolExecutor

    from gen_interactions import speed_interactions
    from threadpoolctl import threadpool_limits

    from recommender.algorithms import Hybrid
    from recommender.algorithms.base import TrainingData
    from recommender.algorithms.batch import recommend_many

    df, item_frame = speed_interactions(users, items, n_inter, seed=0)
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    steps = []

    def timed(label, fn):
        s = time.perf_counter()
        out = fn()
        steps.append((label, time.perf_counter() - s))
        return out

    data = timed("prepare matrix", lambda: TrainingData.from_frame(df, item_frame))

    def fit(name):
        s = time.perf_counter()
        model = make(name).fit_data(data, item_frame)
        return name, model, time.perf_counter() - s

    # Fits: two models at a time, one BLAS thread each, longest first (UserKNN and EASE in parallel).
    longest_first = ["userknn", "ease", "itemknn", "rules", "content", "svd", "popularity"]
    with threadpool_limits(1), ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(fit, [m for m in longest_first if m in NIGHTLY_SINGLES]))
    fitted = {}
    for name, model, f in sorted(results, key=lambda r: NIGHTLY_SINGLES.index(r[0])):
        fitted[name] = model
        steps.append((f"{name} fit (thread s)", f))
    steps.append(("all fits (wall)", time.perf_counter() - t0 - steps[0][1]))
    models = dict(fitted)
    models["hybrid"] = timed("hybrid from_fitted", lambda: Hybrid.from_fitted(fitted))
    # Top-n: every model per batch of users, Hybrid reusing its components' batch scores.
    lists = timed(
        f"top-{n} for every user, all 8 models ({backend})",
        lambda: recommend_many(models, None, n=n, n_jobs=jobs, backend=backend),
    )
    rows = {name: len(frame) for name, frame in lists.items()}
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)  # forked ranking workers
    cpu = ru.ru_utime + ru.ru_stime - c0.ru_utime - c0.ru_stime + ch.ru_utime + ch.ru_stime
    print(
        json.dumps(
            {
                "rows": len(df),
                "users": int(df.user_id.nunique()),
                "items": items,
                "jobs": jobs,
                "child_peak_rss_mb": round(ch.ru_maxrss / 1024),
                "steps": steps,
                "rec_rows": rows,
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "peak_rss_mb": round(ru.ru_maxrss / 1024),
            }
        )
    )
    for label, sec in steps:
        print(f"  {label:40} {sec:7.1f} s")
    print(
        f"  {'TOTAL wall (after data generation)':40} {wall:7.1f} s; CPU {cpu:.1f} s (incl. workers); "
        f"peak RSS {ru.ru_maxrss / 1024:.0f} MB (largest worker {ch.ru_maxrss / 1024:.0f} MB, pages "
        f"shared with the parent counted again); rows {rows}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--nightly", action="store_true", help="all models in one process, Hybrid reusing them")
    ap.add_argument("--jobs", type=int, default=2, help="--nightly: models fitted and ranked in parallel")
    ap.add_argument(
        "--backend", default="thread", choices=["fork", "thread"], help="--nightly: ranking workers"
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        run_one(a.one, a.users, a.items, a.interactions, a.n)
        return
    if a.nightly:
        print(
            f"# {platform.node()} cpus={os.cpu_count()} python={platform.python_version()} "
            f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {a.interactions} interactions, {a.users} users x "
            f"{a.items} items; load average before {os.getloadavg()[0]:.1f}"
        )
        run_nightly(a.users, a.items, a.interactions, a.n, a.jobs, a.backend)
        print(f"# load average after {os.getloadavg()[0]:.1f}")
        return
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()} cpus={os.cpu_count()} "
        f"python={platform.python_version()} {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print(f"# {a.interactions} interactions, {a.users} users x {a.items} items, top {a.n} for every user")
    print(
        f"# load average before: {os.getloadavg()[0]:.1f} (other processes on the machine inflate wall times)"
    )
    print(f"{'model':12} {'fit s':>8} {'top-n s':>8} {'total s':>8} {'cpu s':>8} {'peak MB':>8}  rec rows")
    total = 0.0
    for name in a.models.split(","):
        cmd = [
            sys.executable,
            __file__,
            "--one",
            name,
            "--interactions",
            str(a.interactions),
            "--users",
            str(a.users),
            "--items",
            str(a.items),
            "--n",
            str(a.n),
        ]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if out.returncode != 0:
            print(
                f"{name:12} FAILED: {out.stderr.strip().splitlines()[-1] if out.stderr else out.returncode}"
            )
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        total += r["total_s"]
        print(
            f"{name:12} {r['fit_s']:8.1f} {r['recommend_s']:8.1f} {r['total_s']:8.1f} {r['cpu_s']:8.1f} "
            f"{r['peak_rss_mb']:8.0f}  {r['rec_rows']}  (process wall incl. data generation {wall:.1f} s, "
            f"load {os.getloadavg()[0]:.1f})"
        )
    print(f"{'sum':12} {'':8} {'':8} {total:8.1f}")


if __name__ == "__main__":
    main()
