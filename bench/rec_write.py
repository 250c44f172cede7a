"""Top-N write speed: COPY against batched bulk_create for the same rows, on the configured database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_recprod2_large .venv/bin/python bench/rec_write.py --rows 200000

Writes similar-product rows for a throw-away failed run (deleted afterwards), alternating the two
paths `--repeat` times each; needs a seeded database (products).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from recommender.models import ProductSimilarity, TrainingRun
    from recommender.services.training import bulk
    from shop.models import Product

    ids = list(Product.objects.values_list("pk", flat=True)[:5000])
    if len(ids) < 2:
        sys.exit("seed the database first")
    run = TrainingRun.objects.create(status=TrainingRun.Status.FAILED, trigger="bench-write")

    def rows():
        for i in range(args.rows):
            yield ProductSimilarity(
                run_id=run.pk,
                product_id=ids[i % len(ids)],
                similar_product_id=ids[(i * 7 + 1) % len(ids)],
                kind="also_viewed",
                score=1.0 / (1 + i % 20),
                rank=1 + i % 20,
            )

    paths = {"bulk_create": bulk.insert_batch}
    if connection.vendor == "postgresql":
        paths["COPY"] = bulk.copy_batch
    times = {name: [] for name in paths}
    original = bulk.copy_batch, bulk.insert_batch
    try:
        for _ in range(args.repeat):
            for name, write in paths.items():
                # route the helper's PostgreSQL/other choice to the path under test
                bulk.copy_batch = bulk.insert_batch = write
                started = time.perf_counter()
                written = bulk.rows_write(ProductSimilarity, rows())
                times[name].append(time.perf_counter() - started)
                assert written == args.rows
                ProductSimilarity.objects.filter(run_id=run.pk).delete()
    finally:
        bulk.copy_batch, bulk.insert_batch = original
        run.delete()
    print(f"database: {connection.vendor}; {args.rows:,} rows, batches of {bulk.BATCH_SIZE:,}")
    for name, values in times.items():
        print(
            f"{name:>12}: "
            + ", ".join(f"{v:.2f} s" for v in values)
            + f"  (median {statistics.median(values):.2f} s, {args.rows / statistics.median(values):,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
