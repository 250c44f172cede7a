"""Staff figures: click-through per block and model, per day, and A/B arm results with per-member intervals."""

from collections import defaultdict
from datetime import timedelta

from django.db.models.functions import TruncDate
from django.utils import timezone

from recommender.algorithms.stats import clustered_ratio_interval, wilson_interval
from recommender.models import TrainingRun
from shop.models import Event

CONVERSION_WINDOW = timedelta(days=7)


def _rate(clicks, impressions):
    low, high = wilson_interval(clicks, impressions)
    return {
        "impressions": impressions,
        "clicks": clicks,
        "rate": clicks / impressions if impressions else 0.0,
        "low": low,
        "high": high,
        # the interval as x and width on a 0-100 scale, for the SVG bar
        "ci_x": round(100 * low, 2),
        "ci_width": round(100 * (high - low), 2),
    }


def _member_rate(successes: dict, trials: dict) -> dict:
    """A rate whose interval treats members as the units (a member's impressions are not independent):
    the delta-method clustered interval; the per-impression Wilson interval is kept beside it."""
    members = sorted(set(trials) | set(successes), key=str)
    clicks, impressions = sum(successes.values()), sum(trials.values())
    clustered = clustered_ratio_interval(
        [successes.get(m, 0) for m in members], [trials.get(m, 0) for m in members]
    )
    low, high = clustered["low"], min(clustered["high"], 1.0)
    w_low, w_high = wilson_interval(clicks, impressions)
    return {
        "impressions": impressions,
        "clicks": clicks,
        "rate": clicks / impressions if impressions else 0.0,
        "low": low,
        "high": high,
        "interval": "member",
        "members": len(members),
        "per_impression": {"low": w_low, "high": w_high},
        "ci_x": round(100 * low, 2),
        "ci_width": round(100 * (high - low), 2),
    }


def click_through(*, days=30) -> dict:
    """{"block": {name: rate}, "model": {name: rate}}; impressions count each product shown."""
    since = timezone.now() - timedelta(days=days)
    shown = {"block": defaultdict(int), "model": defaultdict(int)}
    clicked = {"block": defaultdict(int), "model": defaultdict(int)}
    for context in (
        Event.objects.filter(kind=Event.Kind.REC_IMPRESSION, created_at__gte=since)
        .values_list("context", flat=True)
        .iterator(chunk_size=2000)
    ):
        models = context.get("models") or []
        shown["block"][context.get("block", "?")] += len(models)
        for model in models:
            shown["model"][model] += 1
    for context in (
        Event.objects.filter(kind=Event.Kind.REC_CLICK, created_at__gte=since)
        .values_list("context", flat=True)
        .iterator(chunk_size=2000)
    ):
        clicked["block"][context.get("block", "?")] += 1
        clicked["model"][context.get("model", "?")] += 1
    return {
        dim: {
            name: _rate(clicked[dim][name], shown[dim][name])
            for name in sorted(set(shown[dim]) | set(clicked[dim]))
        }
        for dim in shown
    }


def click_through_by_day(*, days=30) -> list[dict]:
    since = timezone.now() - timedelta(days=days)
    per_day = defaultdict(lambda: [0, 0])
    for day, context in (
        Event.objects.filter(kind=Event.Kind.REC_IMPRESSION, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "context")
        .iterator(chunk_size=2000)
    ):
        per_day[day][0] += len(context.get("models") or [])
    for day in (
        Event.objects.filter(kind=Event.Kind.REC_CLICK, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", flat=True)
        .iterator(chunk_size=2000)
    ):
        per_day[day][1] += 1
    return [{"day": day, **_rate(c, i)} for day, (i, c) in sorted(per_day.items())]


def metrics_over_runs(*, limit=30) -> list[dict]:
    """Serving model figures at 10 of recent finished runs, oldest first: precision (any interaction and
    purchases only), recall, nDCG, MAP@10 (mean average precision over the top 10, divided by
    min(relevant, 10)), the gate's protocol and interval."""
    runs = TrainingRun.objects.exclude(status=TrainingRun.Status.RUNNING).order_by("-started_at")[:limit]
    out = []
    for run in reversed(list(runs)):
        values = run.metrics.get(run.serving_model, {}) if run.serving_model else {}
        gate = run.gate or {}
        out.append(
            {
                "run": run,
                "precision": values.get("precision@10"),
                "recall": values.get("recall@10"),
                "ndcg": values.get("ndcg@10"),
                "map": values.get("map@10"),
                "precision_purchase": values.get("precision_purchase@10"),
                "protocol": gate.get("protocol", ""),
                "ci": gate.get("ci"),
                "reference": gate.get("reference", ""),
            }
        )
    return out


def experiment_results(experiment) -> list[dict]:
    """Per arm: members, click-through and conversion (a clicked product bought within 7 days).

    Intervals are per member (clustered): members, not impressions, are what the arms randomise."""
    arms = {
        a["name"]: {
            "arm": a,
            "members": set(),
            "impressions": defaultdict(int),
            "clicks": defaultdict(int),
            "conversions": defaultdict(int),
        }
        for a in experiment.arms or []
        if a.get("name")
    }
    impressions = Event.objects.filter(
        kind=Event.Kind.REC_IMPRESSION,
        context__experiment=experiment.name,
        created_at__gte=experiment.created_at,
    )
    for user_id, context in impressions.values_list("user_id", "context").iterator(chunk_size=2000):
        arm = arms.get(context.get("arm"))
        if arm is not None:
            arm["impressions"][user_id] += len(context.get("models") or [])
            arm["members"].add(user_id)
    clicks = list(
        Event.objects.filter(
            kind=Event.Kind.REC_CLICK,
            context__experiment=experiment.name,
            created_at__gte=experiment.created_at,
        ).values_list("user_id", "product_id", "created_at", "context")
    )
    purchases = defaultdict(list)
    if clicks:
        for user_id, product_id, created_at in Event.objects.filter(
            kind=Event.Kind.PURCHASE,
            user_id__in={c[0] for c in clicks},
            created_at__gte=experiment.created_at,
        ).values_list("user_id", "product_id", "created_at"):
            purchases[(user_id, product_id)].append(created_at)
    for user_id, product_id, clicked_at, context in clicks:
        arm = arms.get(context.get("arm"))
        if arm is None:
            continue
        arm["clicks"][user_id] += 1
        if any(clicked_at <= t <= clicked_at + CONVERSION_WINDOW for t in purchases[(user_id, product_id)]):
            arm["conversions"][user_id] += 1
    out = []
    for name, arm in arms.items():
        ctr = _member_rate(arm["clicks"], arm["impressions"])
        conversion = _member_rate(arm["conversions"], arm["clicks"])
        out.append(
            {
                "name": name,
                "model": arm["arm"].get("model"),
                "share": arm["arm"].get("share"),
                "members": len(arm["members"]),
                "ctr": ctr,
                "conversion": conversion,
            }
        )
    return out
