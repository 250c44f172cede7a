"""Replay: what members would have seen, measured against what they did next (issue 11's served-list bench).

    .venv/bin/python bench/rec_replay.py --db /tmp/replay.sqlite3 --size medium --members 120

On a database of its own (a SQLite file whose name starts with "replay", or a PostgreSQL database
whose name starts with "bench_"; anything else is refused), it seeds the demo shop, cuts the history
at a time T (the `--cut` quantile of member event times), hides everything after T (events are
deleted, later orders are marked cancelled), trains the nightly run on the rest through the real
command, then for each sampled member with later behaviour:
  1. reads the home block the member would see now (the nightly list) through the real selector;
  2. replays the first half of their later events through the real service (event_record: the
     signal, the refresh task in-process) and times event -> refreshed list;
  3. reads the home block again (the refreshed list);
and scores both lists on the second half of the later behaviour (hits on items not replayed).
It also checks every named reason against the member's real behaviour, and counts lists with more
than 4 of 12 items from one category. Prints a table; `--json OUT` writes the figures.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _database_url(target: str) -> str:
    name = Path(target).name if "/" in target else target
    if target.startswith("/") or target.endswith(".sqlite3"):
        if not Path(target).name.startswith("replay"):
            sys.exit(f"refusing {target}: the replay bench only writes to a SQLite file named replay*")
        return f"sqlite:///{target}"
    if not name.startswith("bench_"):
        sys.exit(f"refusing database {target}: the replay bench only writes to databases named bench_*")
    return f"postgres://postgres@127.0.0.1:5432/{target}"


# A named reason is a claim about the member's own behaviour: "因为你<action>了 <product>".
CLAIM = re.compile(r"^因为你(浏览|加购|收藏|购买|评价)了\s*(.+)$")
CLAIM_EN = re.compile(r"^Because you (viewed|added to cart|saved|favourited|bought|reviewed) (.+)$")
EN_ACTIONS = {
    "viewed": "浏览",
    "added to cart": "加购",
    "saved": "收藏",
    "favourited": "收藏",
    "bought": "购买",
    "reviewed": "评价",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/replay.sqlite3")
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--members", type=int, default=120)
    parser.add_argument(
        "--cut", type=float, default=0.9, help="quantile of event times where the history is cut"
    )
    parser.add_argument("--n", type=int, default=12)
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a database seeded and cut by an earlier run"
    )
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _database_url(args.db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)  # tasks in-process: the refresh runs when the event commits
    # The run's fitted models live beside the database, so two benches never read each other's run-1.
    os.environ["RECOMMENDER_ARTIFACT_DIR"] = f"{args.db}.artifacts"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from members.models import User
    from recommender.selectors import recommendations_for_home
    from shop.models import Event, Order, OrderLine, Review
    from shop.services.events import event_record

    try:  # the refresh a worker runs once a member's burst of events has settled (debounced)
        from recommender.services.realtime import member_recommendations_refresh
    except ImportError:  # the code before the serving path was one (for the "today" figures)
        from recommender.services.refresh import member_recommendations_refresh

    def quiet(*a, **k):
        call_command(*a, verbosity=0, **k)

    marker = ROOT / "bench" / "out" / f"replay-{Path(args.db).name}.json"
    snapshot = Path(f"{args.db}.trained") if args.db.startswith("/") else None
    if args.reuse and snapshot is not None:
        if not snapshot.exists():
            sys.exit(f"no trained snapshot at {snapshot}: run once without --reuse")
        connection.close()
        shutil.copyfile(snapshot, args.db)  # replays change the database: start each from the trained state
    if not args.reuse:
        if args.db.startswith("/"):
            Path(args.db).unlink(missing_ok=True)
        else:
            with connection.cursor() as cursor:  # empty the bench's own PostgreSQL database
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        t0 = time.perf_counter()
        quiet("migrate", "--noinput")
        quiet("seed_demo", "--size", args.size)
        times = sorted(
            Event.objects.filter(user__isnull=False, product__isnull=False).values_list(
                "created_at", flat=True
            )
        )
        cut = times[int(len(times) * args.cut)]
        later = list(
            Event.objects.filter(user__isnull=False, product__isnull=False, created_at__gt=cut)
            .order_by("created_at", "id")
            .values_list("user_id", "product_id", "kind", "created_at")
        )
        Event.objects.filter(created_at__gt=cut).delete()
        Order.objects.filter(created_at__gt=cut).update(status=Order.Status.CANCELLED, paid_at=None)
        Review.objects.filter(created_at__gt=cut).delete()
        seed_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        quiet("train_recommender", "--sync")
        train_seconds = time.perf_counter() - t0
        if snapshot is not None:
            connection.close()
            shutil.copyfile(args.db, snapshot)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(
            json.dumps(
                {
                    "cut": cut.isoformat(),
                    "later": [[u, p, k, t.isoformat()] for u, p, k, t in later],
                    "seed_seconds": seed_seconds,
                    "train_seconds": train_seconds,
                }
            )
        )
    state = json.loads(marker.read_text())
    later_by_member = {}
    for user_id, product_id, kind, _when in state["later"]:
        later_by_member.setdefault(user_id, []).append((product_id, kind))
    members = [m for m, evs in later_by_member.items() if len({p for p, _k in evs}) >= 2]
    members = (User.objects.filter(pk__in=members, profile__personalization_enabled=True).order_by("pk"))[
        : args.members
    ]

    def truth(user, rec) -> bool | None:
        """None when the reason names nothing the member did; else whether the named action is real."""
        text = str(rec.reason)
        match = CLAIM.match(text)
        action, name = (match.group(1), match.group(2)) if match else (None, None)
        if match is None:
            match = CLAIM_EN.match(text)
            if match is None:
                return None
            action, name = EN_ACTIONS[match.group(1)], match.group(2)
        name = name.strip()
        if action == "购买":
            return OrderLine.objects.filter(
                order__user=user, order__paid_at__isnull=False, product_name=name
            ).exists()
        if action == "评价":  # a written review, or a star rating recorded as behaviour
            return (
                Review.objects.filter(user=user, product__name=name).exists()
                or Event.objects.filter(user=user, product__name=name, kind=Event.Kind.RATING).exists()
            )
        kinds = {"浏览": [Event.Kind.VIEW], "加购": [Event.Kind.CART_ADD], "收藏": [Event.Kind.FAVOURITE]}[
            action
        ]
        return Event.objects.filter(user=user, product__name=name, kind__in=kinds).exists()

    def categories(recs):
        counts = {}
        for rec in recs:
            counts[rec.product.category_id] = counts.get(rec.product.category_id, 0) + 1
        return max(counts.values()) if counts else 0

    rows, latencies, claims, true_claims = [], [], 0, 0
    over_cap = {"nightly": 0, "refreshed": 0}
    for user in members:
        history = later_by_member[user.pk]
        half = max(1, len(history) // 2)
        replayed, rest = history[:half], history[half:]
        replayed_items = {p for p, _k in replayed}
        future = {p for p, _k in rest} - replayed_items
        future_bought = {p for p, k in rest if k == Event.Kind.PURCHASE} - replayed_items
        nightly = recommendations_for_home(user=user, n=args.n)
        for product_id, kind in replayed:
            event_record(kind=kind, user=user, product_id=product_id)
        # In-process tasks ignore the debounce's countdown, so the burst's later events were coalesced
        # into the first refresh; a worker refreshes once more after the burst: do that, and time it.
        started = time.perf_counter()
        member_recommendations_refresh(user_id=user.pk)
        latencies.append(time.perf_counter() - started)
        user = User.objects.get(pk=user.pk)  # a fresh object: no per-request memo
        refreshed = recommendations_for_home(user=user, n=args.n)
        for name, recs in (("nightly", nightly), ("refreshed", refreshed)):
            if categories(recs) > 4:
                over_cap[name] += 1
            for rec in recs:
                verdict = truth(user, rec)
                if verdict is not None:
                    claims += 1
                    true_claims += verdict
        ids_n = [r.product.pk for r in nightly]
        ids_r = [r.product.pk for r in refreshed]
        rows.append(
            {
                "member": user.pk,
                "future": len(future),
                "hits_nightly": len(future & set(ids_n)),
                "hits_refreshed": len(future & set(ids_r)),
                "bought_nightly": len(future_bought & set(ids_n)),
                "bought_refreshed": len(future_bought & set(ids_r)),
            }
        )
    if not rows:
        sys.exit("no member with later behaviour: seed a larger shop or move --cut")
    done = sorted(latencies)
    total = {
        k: sum(r[k] for r in rows)
        for k in ("hits_nightly", "hits_refreshed", "bought_nightly", "bought_refreshed")
    }
    figures = {
        "database": connection.vendor,
        "size": args.size,
        "members": len(rows),
        "n": args.n,
        "cut": state["cut"],
        "train_seconds": round(state["train_seconds"], 1),
        "hits_nightly": total["hits_nightly"],
        "hits_refreshed": total["hits_refreshed"],
        "precision_nightly": round(total["hits_nightly"] / (len(rows) * args.n), 4),
        "precision_refreshed": round(total["hits_refreshed"] / (len(rows) * args.n), 4),
        "bought_hits_nightly": total["bought_nightly"],
        "bought_hits_refreshed": total["bought_refreshed"],
        "members_with_a_hit_nightly": sum(1 for r in rows if r["hits_nightly"]),
        "members_with_a_hit_refreshed": sum(1 for r in rows if r["hits_refreshed"]),
        "named_reasons": claims,
        "true_named_reasons": true_claims,
        "true_reason_share": round(true_claims / claims, 4) if claims else None,
        "over_cap_share_nightly": round(over_cap["nightly"] / len(rows), 4),
        "over_cap_share_refreshed": round(over_cap["refreshed"] / len(rows), 4),
        "refresh_ms_median": round(1000 * statistics.median(done), 1) if done else None,
        "refresh_ms_p95": round(1000 * done[max(0, int(len(done) * 0.95) - 1)], 1) if done else None,
        "events_replayed": sum(max(1, len(later_by_member[r["member"]]) // 2) for r in rows),
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
