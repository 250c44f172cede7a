"""Event to refreshed list: how long after a cart add the member's list shows it, with a worker.

    DATABASE_URL=sqlite:////tmp/recprod.sqlite3 REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/rec_refresh_latency.py --samples 30

Needs seeded and trained data (an active run). Starts one Celery worker (solo pool), then for
`--samples` different members records a cart-add through shop.services.events.event_record (the
storefront's path: queued on commit) and polls until the member's "realtime" list is explained by
that product. Prints median, p95 and max seconds (target < 5 s).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from members.models import User
    from recommender.models import MemberRecommendation, ProductSimilarity, TrainingRun
    from shop.models import Event
    from shop.services.events import event_record

    if not settings.REDIS_URL:
        sys.exit("needs REDIS_URL (a broker for the worker)")
    run = TrainingRun.objects.filter(is_active=True).first()
    if run is None:
        sys.exit("no active run: run `manage.py train_recommender --sync` first")
    seeds = list(
        ProductSimilarity.objects.filter(
            run=run, kind=ProductSimilarity.Kind.ALSO_VIEWED, similar_product__stock__gt=0
        )
        .values_list("product_id", flat=True)
        .distinct()[: args.samples]
    )
    members = list(
        User.objects.filter(profile__personalization_enabled=True)
        .order_by("-pk")
        .values_list("pk", flat=True)[: args.samples]
    )

    log_dir = ROOT / "bench" / "out"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / "rec-refresh-worker.log", "w")
    worker = subprocess.Popen(
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
            f"recrefresh-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    latencies = []
    try:
        time.sleep(8)  # worker start-up is not part of the latency
        for member_id, product_id in zip(members, seeds):
            member = User.objects.get(pk=member_id)
            started = time.perf_counter()
            event_record(kind=Event.Kind.CART_ADD, user=member, product_id=product_id)
            deadline = started + args.timeout
            while time.perf_counter() < deadline:
                if MemberRecommendation.objects.filter(
                    run=run, user_id=member_id, model="realtime", reason_product_id=product_id
                ).exists():
                    latencies.append(time.perf_counter() - started)
                    break
                time.sleep(0.02)
            else:
                latencies.append(float("inf"))
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    done = sorted(latencies)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; samples: {len(done)}")
    print(
        f"event -> refreshed list: median {statistics.median(done):.3f} s, "
        f"p95 {done[max(0, int(len(done) * 0.95) - 1)]:.3f} s, max {done[-1]:.3f} s (target < 5 s)"
    )


if __name__ == "__main__":
    main()
