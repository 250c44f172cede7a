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
        print(
            f"event_record (member): median {memb[0]:.3f} ms   p99 {memb[1]:.3f} ms   "
            "(includes any hook the recommender added to event_record)"
        )

    # Pages with and without recording, interleaved request by request so that load from other
    # processes on the machine hits both series alike.
    real_record = events.event_record_for_request
    recording = {"on": True}

    def maybe_record(*args, **kwargs):
        return real_record(*args, **kwargs) if recording["on"] else None

    urls = [p.get_absolute_url() for p in products]
    clients = {True: Client(), False: Client()}
    samples = {True: [], False: []}
    with mock.patch("shop.views.event_record_for_request", maybe_record):
        for on in (True, False):
            recording["on"] = on
            for url in urls[:10]:
                clients[on].get(url)
        for i in range(args.pages * 2):
            on = i % 2 == 0
            recording["on"] = on
            start = time.perf_counter()
            clients[on].get(urls[(i // 2) % len(urls)])
            samples[on].append((time.perf_counter() - start) * 1000)
    with_events, without_events = statistics.median(samples[True]), statistics.median(samples[False])
    print(
        f"product page (guest): median {with_events:.2f} ms with events, "
        f"{without_events:.2f} ms without: {with_events - without_events:+.2f} ms "
        f"({args.pages} pages each, interleaved)"
    )
    deleted, _ = Event.objects.filter(id__gt=started_at_id).delete()
    print(f"cleaned up {deleted} benchmark events")


if __name__ == "__main__":
    main()
