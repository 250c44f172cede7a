"""What recording behaviour events costs: per call, and on the product page with and without it.

    DATABASE_URL=sqlite:////tmp/storefront-medium.sqlite3 .venv/bin/python bench/shop_event_overhead.py

Uses a seeded database (manage.py seed_demo). The events it writes are deleted at the end.
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
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from unittest import mock

    from django.test import Client

    from members.models import User
    from shop.models import Event, Product
    from shop.services import events

    started_at_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    products = list(Product.objects.filter(is_active=True).order_by("id")[:200])
    member = User.objects.filter(email="demo@example.com").first()

    def per_call(**kwargs):
        samples = []
        for i in range(args.calls):
            start = time.perf_counter()
            events.event_record(kind=Event.Kind.VIEW, product=products[i % len(products)], **kwargs)
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples), sorted(samples)[int(len(samples) * 0.99) - 1]

    anon = per_call(session_key="bench-visitor", context={"page": "bench"})
    print(f"event_record (guest):  median {anon[0]:.3f} ms   p99 {anon[1]:.3f} ms   ({args.calls} calls)")
    if member:
        memb = per_call(user=member, context={"page": "bench"})
        print(f"event_record (member): median {memb[0]:.3f} ms   p99 {memb[1]:.3f} ms   "
              "(includes any hook the recommender added to event_record)")

    def page_times(client):
        urls = [p.get_absolute_url() for p in products]
        for url in urls[:5]:
            client.get(url)
        samples = []
        for i in range(args.pages):
            start = time.perf_counter()
            client.get(urls[i % len(urls)])
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    with_events = page_times(Client())
    with mock.patch("shop.views.event_record_for_request", lambda *a, **k: None):
        without_events = page_times(Client())
    print(f"product page (guest): median {with_events:.2f} ms with events, "
          f"{without_events:.2f} ms without: +{with_events - without_events:.2f} ms")
    deleted, _ = Event.objects.filter(id__gt=started_at_id).delete()
    print(f"cleaned up {deleted} benchmark events")


if __name__ == "__main__":
    main()
