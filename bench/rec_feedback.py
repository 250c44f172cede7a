"""Tune the feedback table (event weights, half-life) on validation: the medium demo and online-retail.

    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python manage.py seed_demo --size medium
    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python bench/rec_feedback.py [--retail PATH]

Each member's latest 20% of products (by time) are held out; the probe (EASE, l2=500) is trained on the
rest with each candidate weight table x half-life and scored by precision@10 on the held-out products
the member showed positive interest in. Also prints the learned repurchase intervals of the demo.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def demo_rows():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from recommender.services.frames import NEGATIVE_KINDS, PAID_STATUSES, TRAINED_KINDS
    from shop.models import Event, OrderLine

    ev = pd.DataFrame.from_records(
        list(
            Event.objects.filter(
                user__isnull=False, product__isnull=False, kind__in=[*TRAINED_KINDS, *NEGATIVE_KINDS]
            ).values_list("user_id", "product_id", "kind", "value", "created_at")
        ),
        columns=["user_id", "item_id", "event", "rating", "timestamp"],
    )
    lines = list(
        OrderLine.objects.filter(
            order__user__isnull=False, order__status__in=PAID_STATUSES, product__isnull=False
        ).values_list("order__user_id", "product_id", "order__paid_at", "product__category_id")
    )
    ol = pd.DataFrame.from_records(lines, columns=["user_id", "item_id", "timestamp", "category_id"])
    ol["event"] = "purchase"
    rows = pd.concat([ev, ol[["user_id", "item_id", "event", "timestamp"]]], ignore_index=True)
    rows["timestamp"] = pd.to_datetime(rows["timestamp"], utc=True)
    return rows, ol


def retail_rows(path):
    df = pd.read_csv(path)
    df = df[(df["Quantity"] > 0) & df["CustomerID"].notna()]
    return pd.DataFrame(
        {
            "user_id": df["CustomerID"].astype("int64"),
            "item_id": df["StockCode"].astype(str),
            "event": "purchase",
            "timestamp": pd.to_datetime(df["InvoiceDate"], utc=True),
        }
    )


def split(rows):
    from recommender.algorithms.data import prepare_interactions
    from recommender.algorithms.evaluation import temporal_split

    train, test = temporal_split(rows, test_size=0.2)
    valid = prepare_interactions(test)[["user_id", "item_id"]]  # held-out pairs of net positive interest
    return train, valid


def before_after(train, valid):
    """The probe with the old rule (negative kinds ignored, a rating weighs its stars, no decay) against
    the new one (negatives and low stars count against the item, the chosen half-life)."""
    from recommender.algorithms.data import EVENT_WEIGHTS, prepare_interactions
    from recommender.algorithms.evaluation import ranking_metrics, relevant_pairs
    from recommender.algorithms.feedback import HALF_LIFE_DAYS
    from recommender.algorithms.models import EASE

    relevant = relevant_pairs(prepare_interactions(train), valid)
    old = train[~train["event"].isin(["cart_remove", "unfavourite", "not_interested"])].copy()
    stars = pd.to_numeric(old["rating"], errors="coerce")
    old["weight"] = old["event"].map(EVENT_WEIGHTS).fillna(1.0)
    old.loc[old["event"] == "rating", "weight"] = stars.fillna(3.0)
    variants = {
        "before": prepare_interactions(old),
        "after": prepare_interactions(train, half_life_days=HALF_LIFE_DAYS),
    }
    out = {}
    for name, prepared in variants.items():
        users = pd.unique(relevant["user_id"])
        users = users[pd.Index(users).isin(pd.Index(pd.unique(prepared["user_id"])))]
        recs = EASE(l2=500.0).fit(prepared).recommend(users, n=10)
        figures = ranking_metrics(recs, relevant, k=10)
        out[name] = {k: float(figures[k]) for k in ("precision", "recall", "ndcg")} | {"pairs": len(prepared)}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--retail", default=str(ROOT.parent / "shared" / "data" / "online-retail-40k.csv"))
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--compare-only", action="store_true", help="only the before/after of the rule")
    args = parser.parse_args()
    from recommender.algorithms.feedback import repurchase_intervals, tune_feedback

    out = {}
    if not args.skip_demo:
        rows, lines = demo_rows()
        train, valid = split(rows)
        if args.compare_only:
            print(json.dumps(before_after(train, valid), indent=1))
            return
        out["demo"] = tune_feedback(train, valid)
        out["demo_before_after"] = before_after(train, valid)
        intervals = repurchase_intervals(lines)
        s = pd.Series(intervals)
        out["demo_repurchase"] = {
            "products": int(len(s)),
            "median_days": float(s.median()) if len(s) else None,
        }
    if args.retail and Path(args.retail).exists():
        from recommender.algorithms.feedback import CANDIDATE_TABLES

        train, valid = split(retail_rows(args.retail))
        out["retail"] = tune_feedback(train, valid, tables={"current": CANDIDATE_TABLES["current"]})
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
