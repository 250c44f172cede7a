"""Staff figures: click-through per block and model, per day, and A/B arm results with intervals."""
from collections import defaultdict
from datetime import timedelta

from django.db.models.functions import TruncDate
from django.utils import timezone

from recommender.experiments import wilson_interval
from recommender.models import TrainingRun
from shop.models import Event

CONVERSION_WINDOW = timedelta(days=7)


def _rate(clicks, impressions):
    low, high = wilson_interval(clicks, impressions)
    return {"impressions": impressions, "clicks": clicks,
            "rate": clicks / impressions if impressions else 0.0, "low": low, "high": high,
            # the interval as x and width on a 0-100 scale, for the SVG bar
            "ci_x": round(100 * low, 2), "ci_width": round(100 * (high - low), 2)}


def click_through(*, days=30) -> dict:
    """{"block": {name: rate}, "model": {name: rate}}; impressions count each product shown."""
    since = timezone.now() - timedelta(days=days)
    shown = {"block": defaultdict(int), "model": defaultdict(int)}
    clicked = {"block": defaultdict(int), "model": defaultdict(int)}
    for context in Event.objects.filter(kind=Event.Kind.REC_IMPRESSION, created_at__gte=since).values_list(
            "context", flat=True).iterator(chunk_size=2000):
        models = context.get("models") or []
        shown["block"][context.get("block", "?")] += len(models)
        for model in models:
            shown["model"][model] += 1
    for context in Event.objects.filter(kind=Event.Kind.REC_CLICK, created_at__gte=since).values_list(
            "context", flat=True).iterator(chunk_size=2000):
        clicked["block"][context.get("block", "?")] += 1
        clicked["model"][context.get("model", "?")] += 1
    return {dim: {name: _rate(clicked[dim][name], shown[dim][name])
                  for name in sorted(set(shown[dim]) | set(clicked[dim]))} for dim in shown}


def click_through_by_day(*, days=30) -> list[dict]:
    since = timezone.now() - timedelta(days=days)
    per_day = defaultdict(lambda: [0, 0])
    for day, context in (Event.objects.filter(kind=Event.Kind.REC_IMPRESSION, created_at__gte=since)
                         .annotate(day=TruncDate("created_at")).values_list("day", "context")
                         .iterator(chunk_size=2000)):
        per_day[day][0] += len(context.get("models") or [])
    for day in (Event.objects.filter(kind=Event.Kind.REC_CLICK, created_at__gte=since)
                .annotate(day=TruncDate("created_at")).values_list("day", flat=True).iterator(chunk_size=2000)):
        per_day[day][1] += 1
    return [{"day": day, **_rate(c, i)} for day, (i, c) in sorted(per_day.items())]


def metrics_over_runs(*, limit=30) -> list[dict]:
    """Serving model precision@10 and recall@10 of recent finished runs, oldest first."""
    runs = (TrainingRun.objects.exclude(status=TrainingRun.Status.RUNNING)
            .order_by("-started_at")[:limit])
    out = []
    for run in reversed(list(runs)):
        values = run.metrics.get(run.serving_model, {}) if run.serving_model else {}
        out.append({"run": run, "precision": values.get("precision@10"), "recall": values.get("recall@10"),
                    "ndcg": values.get("ndcg@10")})
    return out


def experiment_results(experiment) -> list[dict]:
    """Per arm: members, click-through and conversion (a clicked product bought within 7 days)."""
    arms = {a["name"]: {"arm": a, "members": set(), "impressions": 0, "clicks": 0, "conversions": 0}
            for a in experiment.arms or [] if a.get("name")}
    impressions = Event.objects.filter(kind=Event.Kind.REC_IMPRESSION, context__experiment=experiment.name,
                                       created_at__gte=experiment.created_at)
    for user_id, context in impressions.values_list("user_id", "context").iterator(chunk_size=2000):
        arm = arms.get(context.get("arm"))
        if arm is not None:
            arm["impressions"] += len(context.get("models") or [])
            arm["members"].add(user_id)
    clicks = list(Event.objects.filter(kind=Event.Kind.REC_CLICK, context__experiment=experiment.name,
                                       created_at__gte=experiment.created_at)
                  .values_list("user_id", "product_id", "created_at", "context"))
    purchases = defaultdict(list)
    if clicks:
        for user_id, product_id, created_at in Event.objects.filter(
                kind=Event.Kind.PURCHASE, user_id__in={c[0] for c in clicks},
                created_at__gte=experiment.created_at).values_list("user_id", "product_id", "created_at"):
            purchases[(user_id, product_id)].append(created_at)
    for user_id, product_id, clicked_at, context in clicks:
        arm = arms.get(context.get("arm"))
        if arm is None:
            continue
        arm["clicks"] += 1
        if any(clicked_at <= t <= clicked_at + CONVERSION_WINDOW for t in purchases[(user_id, product_id)]):
            arm["conversions"] += 1
    out = []
    for name, arm in arms.items():
        ctr = _rate(arm["clicks"], arm["impressions"])
        conversion = _rate(arm["conversions"], arm["clicks"])
        out.append({"name": name, "model": arm["arm"].get("model"), "share": arm["arm"].get("share"),
                    "members": len(arm["members"]), "ctr": ctr, "conversion": conversion})
    return out
