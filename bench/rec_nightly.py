"""A full nightly run (load, train, evaluate, score every member, write, activate), timed.

    # in-process (what `train_recommender --sync` does):
    DATABASE_URL=sqlite:////tmp/recprod.sqlite3 .venv/bin/python bench/rec_nightly.py
    # through Celery with N worker processes (solo pool, one task at a time each):
    DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/rec_nightly.py --workers 1
    DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/rec_nightly.py --workers 2

Seed first (`seed_demo --size medium|large`). With --workers the script starts the workers itself,
enqueues `retrain_nightly`, waits for the new run to become active and stops the workers; the time
is from enqueue to activation. Prints the run's sizes and per-stage timings.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def start_workers(count, log_dir):
    workers = []
    for index in range(count):
        log = open(log_dir / f"rec-worker-{index}.log", "w")
        workers.append(
            (
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "-P",
                        "solo",
                        "-c",
                        "1",
                        "-n",
                        f"recbench{index}-{os.getpid()}@%h",
                        "--without-gossip",
                        "--without-mingle",
                        "-l",
                        "WARNING",
                    ],
                    cwd=ROOT,
                    env=dict(os.environ),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    return workers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=0, help="0 = in-process (no Celery)")
    parser.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from recommender.models import TrainingRun
    from recommender.services import training

    TrainingRun.objects.filter(is_active=True).update(is_active=False)  # so the gate compares with nothing
    started = time.perf_counter()
    if args.workers == 0:
        run = training.training_run_execute(trigger="bench")
    else:
        if not settings.REDIS_URL:
            sys.exit("--workers needs REDIS_URL")
        log_dir = ROOT / "bench" / "out"
        log_dir.mkdir(parents=True, exist_ok=True)
        workers = start_workers(args.workers, log_dir)
        try:
            time.sleep(6)  # let the workers connect before the clock matters
            from recommender.tasks import retrain_nightly

            before = set(TrainingRun.objects.values_list("pk", flat=True))
            started = time.perf_counter()
            retrain_nightly.delay("bench")
            deadline = time.time() + args.timeout
            run = None
            while time.time() < deadline:
                run = TrainingRun.objects.exclude(pk__in=before).first()
                if run is not None and run.status != TrainingRun.Status.RUNNING:
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            for process, _log in workers:
                process.terminate()
            for process, log in workers:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:  # busy with the follow-up offers task
                    process.kill()
                    process.wait()
                log.close()
    if args.workers == 0:
        run.refresh_from_db()
        # --sync issues the personal offers after activation (the worker path queues them): not
        # part of the time to a new active run.
        elapsed = time.perf_counter() - started - run.timings.get("after_offers", 0.0)
    run.refresh_from_db()
    mode = (
        "in-process" if args.workers == 0 else f"{args.workers} Celery worker(s), {run.shards_total} shards"
    )
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; mode: {mode}")
    print(f"run #{run.pk}: {run.status}, active={run.is_active}, serving {run.serving_model}")
    print("sizes: " + ", ".join(f"{k}={v}" for k, v in run.data_sizes.items()))
    print("stage timings (s): " + ", ".join(f"{k}={v}" for k, v in run.timings.items()))
    print(f"wall time, start to active: {elapsed:.1f} s")


if __name__ == "__main__":
    main()
