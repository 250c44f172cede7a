"""What personalised recommendations add to the home page: median time and SQL queries, same run.

    DATABASE_URL=sqlite:////tmp/recprod.sqlite3 .venv/bin/python bench/rec_home_overhead.py

Needs seeded and trained data (`seed_demo --size medium`, `train_recommender --sync`). Renders the
home page (Django test Client, in-process) for members with a personalised list, alternating
requests with the recommendation block on and off (off = the view's block builder returns []), and
prints the median and p90 of each, the ratio of medians (target <= 1.2) and the queries per page.
`--cold` clears the cache before every request, so each one computes and renders the block.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="Clear the cache before every request: the uncached block every time.",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    import shop.views
    from members.models import User
    from recommender.models import MemberRecommendation, TrainingRun

    run = TrainingRun.objects.filter(is_active=True).first()
    if run is None:
        sys.exit("no active run: run `manage.py train_recommender --sync` first")
    member_ids = list(
        MemberRecommendation.objects.filter(run=run, model=run.serving_model)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")[: args.members]
    )
    clients = []
    for user in User.objects.filter(pk__in=member_ids):
        client = Client()
        client.force_login(user)
        clients.append(client)
    url = reverse("shop:home")
    with_blocks = shop.views.recommendation_blocks_for_home

    def without_blocks(request, **kwargs):
        return []

    from django.core.cache import cache

    def render(client, personalised):
        shop.views.recommendation_blocks_for_home = with_blocks if personalised else without_blocks
        if args.cold:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200
        if personalised:
            assert b"/recommendations/click/home/" in response.content
        return elapsed, len(captured.captured_queries)

    for client in clients:  # warm up sessions, templates, caches
        render(client, True)
        render(client, False)
    results = {True: [], False: []}
    queries = {True: set(), False: set()}
    for i in range(args.runs):
        client = clients[i % len(clients)]
        for personalised in (True, False) if i % 2 else (False, True):
            elapsed, count = render(client, personalised)
            results[personalised].append(elapsed)
            queries[personalised].add(count)
    shop.views.recommendation_blocks_for_home = with_blocks

    def summary(values):
        values = sorted(values)
        return statistics.median(values), values[int(len(values) * 0.9) - 1]

    on, off = summary(results[True]), summary(results[False])
    print(
        f"database: {connection.vendor}; members: {len(clients)}; requests per variant: {args.runs}; "
        f"block cache: {'cleared before every request' if args.cold else 'warm (per member, 120 s)'}"
    )
    print(
        f"home without recommendations: median {off[0]:.2f} ms, p90 {off[1]:.2f} ms, queries {sorted(queries[False])}"
    )
    print(
        f"home with personalised block: median {on[0]:.2f} ms, p90 {on[1]:.2f} ms, queries {sorted(queries[True])}"
    )
    print(f"ratio of medians: {on[0] / off[0]:.3f} (target <= 1.2)")


if __name__ == "__main__":
    main()
