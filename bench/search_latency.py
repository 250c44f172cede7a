"""Search latency on a seeded database: the ranked page, the full search (page, count, facets), suggestions.

    createdb shop_search_bench   # or psql -c "create database shop_search_bench"
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_search_bench
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo --size large
    .venv/bin/python bench/search_latency.py [--runs 400]

The queries: the issue's (零食, 男装, 影音耳机, 鼠标无线, 无线鼠标, 智享鼠标, 智享 鼠标, 耳機), pinyin and
initials, and words drawn from the seeded names, brands and categories (seeded random, so every run asks
the same). Times are wall-clock in this process, from building the query to having the rows, after a warm-up;
the suggestion cache is bypassed. Prints median / p90 / p99 per measure and the plan of one query.
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

ISSUE_QUERIES = ["零食", "男装", "影音耳机", "鼠标无线", "无线鼠标", "智享鼠标", "智享 鼠标", "耳機"]
OTHER_QUERIES = [
    "shubiao",
    "sb",
    "lanya erji",
    "jianguo",
    "连衣裙",
    "蓝牙耳机 Pro",
    "纯棉",
    "送礼",
    "biao",
    "手機殼",
]


def queries(count, seed):
    from shop.models import Brand, Category, Product
    from shop.search import parse_query

    rng = random.Random(seed)
    words = set()
    for name in Product.objects.values_list("name", flat=True)[:2000]:
        words.update(t for t in parse_query(name).terms if len(t) > 1)
    words = sorted(words)
    brands = sorted(Brand.objects.values_list("name", flat=True))
    categories = sorted(Category.objects.values_list("name", flat=True))
    out = list(ISSUE_QUERIES + OTHER_QUERIES)
    while len(out) < count:
        kind = rng.random()
        if kind < 0.4:
            out.append(rng.choice(words))
        elif kind < 0.7:
            out.append(f"{rng.choice(brands)} {rng.choice(words)}")
        elif kind < 0.85:
            out.append(rng.choice(categories))
        else:
            out.append(rng.choice(words) + rng.choice(words))
    return out


def timed(fn, items):
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    n = len(times)
    return statistics.median(times), times[max(int(n * 0.9) - 1, 0)], times[max(int(n * 0.99) - 1, 0)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from shop import selectors
    from shop.models import Product
    from shop.search import parse_query

    qs = queries(args.runs, args.seed)
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
        f"{Product.objects.filter(is_active=True).count()} active products; {len(qs)} queries"
    )

    def page(q):
        return list(selectors.products_search(q)[: selectors.PAGE_SIZE])

    def full(q):
        parsed = parse_query(q)  # once, as the view does
        found = selectors.products_search(parsed)
        rows = list(found[: selectors.PAGE_SIZE])
        return rows, found.count(), selectors.search_facets(parsed)

    class NoCache:
        """Suggestions are cached per query: measure the work behind the cache, not the cache."""

        def __init__(self, real):
            self.real = real

        def get(self, key, default=None):
            return default if key.startswith("shop:suggest:") else self.real.get(key, default)

        def set(self, key, value, timeout=None):
            if not key.startswith("shop:suggest:"):
                self.real.set(key, value, timeout)

    def suggest(q):
        return selectors.search_suggestions(q)

    selectors.cache = NoCache(selectors.cache)
    for q in qs[:30]:  # warm: jieba's dictionary, OpenCC, connections, plans
        full(q)
    print(f"{'measure':<38} {'median':>8} {'p90':>8} {'p99':>8}   (ms)")
    for label, fn in [
        ("ranked first page (24, with images)", page),
        ("full search: page + count + 3 facets", full),
        ("suggestions (uncached)", suggest),
        ("query parsing alone (jieba, OpenCC)", parse_query),
    ]:
        median, p90, p99 = timed(fn, qs)
        print(f"{label:<38} {median:8.1f} {p90:8.1f} {p99:8.1f}")
    print("\nissue queries (found, first result):")
    for q in ISSUE_QUERIES:
        found = selectors.products_search(q)
        first = found.first()
        print(f"  {q:<10} {found.count():>5}  {first.name if first else '-'}")
    if connection.vendor == "postgresql":
        sql, params = selectors.products_search("无线鼠标")[:24].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
        print("\nplan of 无线鼠标 (first page):")
        print("\n".join("  " + line for line in plan))


if __name__ == "__main__":
    main()
