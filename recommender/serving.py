"""What pages are served from: the active run's state (cached), block versions, exclusions and segments.

Selectors, surfaces, services and tasks import this module; it imports none of them, so the
serving path has one home and no import circle.
"""

from __future__ import annotations

import logging
import time
from datetime import date

from django.core.cache import cache
from django.db.models import JSONField, Subquery

from recommender.models import Experiment, TrainingRun
from shop.models import OrderLine

logger = logging.getLogger(__name__)

# The model name of the rows rebuilt after a member's events (served before the nightly list).
REALTIME_MODEL = "realtime"

# Profile segments of the popular lists: "profile:<age band>:<gender>". (low, high, label), high exclusive.
AGE_BANDS = ((0, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, 200, "55+"))


def age_band(birth_date, today: date | None = None) -> str:
    """The label of the age band of someone born on `birth_date`; "" without a date."""
    if birth_date is None or birth_date != birth_date:  # None, or NaT/NaN from a frame
        return ""
    today = today or date.today()
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    return next((label for low, high, label in AGE_BANDS if low <= age < high), "")


def profile_segment(gender: str, birth_date, today: date | None = None) -> str | None:
    """The popular-list segment of a member's profile, or None when the profile says nothing."""
    gender = gender if isinstance(gender, str) else ""
    band = age_band(birth_date, today)
    return f"profile:{band}:{gender}" if band or gender else None


def bought_product_ids(user_id: int):
    """Products the member bought that are not consumable (never recommended again): a subquery."""
    return OrderLine.objects.filter(
        order__user_id=user_id, product__is_consumable=False, order__paid_at__isnull=False
    ).values("product_id")


# -- what every member page needs: the active run and the running experiment, cached -------------
SERVING_STATE_CACHE_KEY = "recommender:serving-state:v1"
SERVING_STATE_SECONDS = 60


def serving_state() -> dict:
    """{run_id, serving_model, list_models, experiment} of the active run, in one query, cached.

    Every personalised block needs it; activation and experiment changes forget it
    (serving_state_forget), the short timeout covers a change made some other way.
    """
    try:
        state = cache.get(SERVING_STATE_CACHE_KEY)
    except Exception:
        state = None
    if state is not None:
        return state
    running = Experiment.objects.filter(is_running=True).order_by("-created_at")
    row = (
        TrainingRun.objects.filter(is_active=True)
        .annotate(
            experiment_name=Subquery(running.values("name")[:1]),
            experiment_arms=Subquery(running.values("arms")[:1], output_field=JSONField()),
        )
        .values_list("pk", "serving_model", "parameters", "experiment_name", "experiment_arms")
        .first()
    )
    if row is None:
        state = {"run_id": None, "serving_model": None, "list_models": [], "experiment": None}
    else:
        run_id, serving, parameters, experiment_name, arms = row
        state = {
            "run_id": run_id,
            "serving_model": serving or None,
            "list_models": list((parameters or {}).get("list_models", [])),
            "experiment": {"name": experiment_name, "arms": arms or []} if experiment_name else None,
        }
    try:
        cache.set(SERVING_STATE_CACHE_KEY, state, SERVING_STATE_SECONDS)
    except Exception:
        pass
    return state


def serving_state_forget() -> None:
    try:
        cache.delete(SERVING_STATE_CACHE_KEY)
    except Exception:
        pass


# -- block versions: a member's cached blocks are keyed by a version bumped when their list changes ---
def member_version_key(user_id) -> str:
    return f"recommender:member-version:{user_id}"


def member_version(user_id):
    """The version the member's cached blocks are keyed by (0 until their list first changes)."""
    return cache.get(member_version_key(user_id), 0)


def member_blocks_forget(user_id) -> None:
    """Called after a member's list changed: their cached blocks are not used any more."""
    try:
        cache.set(member_version_key(user_id), time.time_ns(), timeout=None)
    except Exception:
        logger.warning("cache unavailable: member %s blocks stay cached until they expire", user_id)
