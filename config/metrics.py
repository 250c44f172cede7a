"""Prometheus metrics beyond django-prometheus's requests and latencies: the recommender and Celery tasks."""

import os

import prometheus_client
from django.core.cache import cache
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, multiprocess
from prometheus_client.core import GaugeMetricFamily

from recommender.models import TrainingRun
from recommender.stats import click_through

CTR_CACHE_KEY = "metrics:recommender:ctr"
CTR_CACHE_SECONDS = 300  # click-through reads a day of events: once per five minutes is enough

celery_tasks = Counter(
    "shop_celery_tasks_total", "Celery tasks finished, by task and state", ["task", "state"]
)


class RecommenderCollector:
    """The active training run (id, age, evaluation metrics) and yesterday's click-through, as gauges."""

    def collect(self):
        run = (
            TrainingRun.objects.filter(is_active=True)
            .only("pk", "activated_at", "finished_at", "started_at", "metrics", "serving_model")
            .first()
        )
        present = GaugeMetricFamily("shop_recommender_active_run", "Id of the run serving pages (0: none)")
        present.add_metric([], run.pk if run else 0)
        yield present
        if run is None:
            return
        age = GaugeMetricFamily(
            "shop_recommender_active_run_age_seconds", "Seconds since the serving run finished training"
        )
        trained = run.finished_at or run.activated_at or run.started_at
        age.add_metric([], (timezone.now() - trained).total_seconds())
        yield age
        quality = GaugeMetricFamily(
            "shop_recommender_run_metric",
            "Offline evaluation of the serving run",
            labels=["model", "metric", "serving"],
        )
        for model, values in sorted((run.metrics or {}).items()):
            for metric, value in sorted((values or {}).items() if isinstance(values, dict) else []):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    quality.add_metric([model, metric, str(model == run.serving_model).lower()], value)
        yield quality
        ctr = GaugeMetricFamily(
            "shop_recommender_click_through_24h",
            "Clicks per recommended product shown over the last day",
            labels=["block"],
        )
        for block, rate in _click_through_by_block().items():
            ctr.add_metric([block], rate)
        yield ctr


def _click_through_by_block() -> dict:
    rates = cache.get(CTR_CACHE_KEY)
    if rates is None:
        rates = {block: figures["rate"] for block, figures in click_through(days=1)["block"].items()}
        cache.set(CTR_CACHE_KEY, rates, CTR_CACHE_SECONDS)
    return rates


def metrics_page() -> bytes:
    """The exposition text: every process's counters (gunicorn workers and Celery share a directory
    when PROMETHEUS_MULTIPROC_DIR is set), then the recommender's gauges, read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    recommender = CollectorRegistry()
    recommender.register(RecommenderCollector())
    return prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(recommender)


def celery_task_finished(sender=None, state=None, **kwargs):
    """task_postrun receiver: count each finished task by name and final state."""
    celery_tasks.labels(task=getattr(sender, "name", "?"), state=state or "UNKNOWN").inc()
