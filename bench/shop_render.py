"""Median in-process render time (Django test Client) of storefront pages on a seeded database.

    DATABASE_URL=sqlite:////tmp/storefront-medium.sqlite3 .venv/bin/python bench/shop_render.py

Seed first: `manage.py migrate && manage.py seed_demo --size medium`. Prints median / p90 wall time,
median CPU time of this process (what the render costs when other work shares the cores) and SQL
queries per page for the product and category pages (plus home, search and cart for context).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def measure(client, urls, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:5]:  # warm caches, templates and the session
        client.get(url)
    times, cpu, queries = [], [], []
    for i in range(runs):
        url = urls[i % len(urls)]
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        queries.append(len(captured.captured_queries))
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return (statistics.median(times), times[int(len(times) * 0.9) - 1], statistics.median(cpu), max(queries))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from members.models import User
    from shop.models import Category, Product

    rng = random.Random(args.seed)
    slugs = list(Product.objects.filter(is_active=True).values_list("slug", flat=True))
    if len(slugs) < 100:
        sys.exit("Seed the database first (manage.py seed_demo --size medium).")
    products = [reverse("shop:product", args=[s]) for s in rng.sample(slugs, 100)]
    categories = [
        reverse("shop:category", args=[s]) + q
        for s in Category.objects.values_list("slug", flat=True)
        for q in ("", "?sort=bestselling", "?sort=price_asc&in_stock=on")
    ]
    rng.shuffle(categories)
    pages = {
        "product": products,
        "category": categories,
        "home": [reverse("shop:home")],
        "search": [reverse("shop:search") + f"?q={q}" for q in ("纯棉", "耳机", "简约 实木", "茶")],
        "cart": [reverse("shop:cart")],
    }
    print(
        f"database: {settings.DATABASES['default']['NAME']}; products: {len(slugs)}; "
        f"runs per page: {args.runs}; DEBUG={settings.DEBUG}"
    )
    demo = User.objects.filter(email="demo@example.com").first()
    for who in ("guest", "member"):
        client = Client()
        if who == "member":
            if demo is None:
                continue
            client.force_login(demo)
        for name, urls in pages.items():
            median, p90, cpu, max_queries = measure(client, urls, args.runs)
            print(
                f"{who:6} {name:8} median {median:6.1f} ms   p90 {p90:6.1f} ms   "
                f"CPU median {cpu:6.1f} ms   queries ≤ {max_queries}"
            )


if __name__ == "__main__":
    main()
