"""Near-real-time lists: a member's current history folded into the active run's serving model after their events.

The same model that wrote the nightly list scores the updated history (EASE: history × B, item-kNN:
history × S, matrix factorisation: the member's factors solved from it, the Hybrid blending its parts),
then the same exclusions, variety cap and reasons as the nightly lists are applied (serving.py).
"""

import logging
from types import SimpleNamespace

import pandas as pd
from django.core.cache import cache
from django.db import transaction

from members.models import User
from recommender.algorithms.data import EVENT_WEIGHTS
from recommender.engine import LIST_LENGTH
from recommender.experiments import arm_for
from recommender.models import MemberRecommendation
from recommender.privacy import personalization_allowed
from recommender.serving import (
    EVENT_ACTIONS,
    PAID_LINE,
    REALTIME_MODEL,
    bought_product_ids,
    fitted_model,
    fold_in,
    generic_reason,
    history_weights,
    member_blocks_forget,
    member_history_rows,
    not_interested_product_ids,
    serving_state,
    strongest_action,
)
from shop.models import Event

logger = logging.getLogger(__name__)

# The behaviour that schedules a refresh (refresh.refresh_due), weighted as the nightly models weigh it.
SEED_KINDS = (Event.Kind.VIEW, Event.Kind.CART_ADD, Event.Kind.FAVOURITE, Event.Kind.PURCHASE)
SEED_WEIGHTS = {kind: EVENT_WEIGHTS[kind] for kind in SEED_KINDS}


def pending_key(user_id) -> str:
    """The debounce mark of a queued refresh (refresh_schedule sets it; the refresh clears it)."""
    return f"recommender:refresh-pending:{user_id}"


def _served_model_name(user, state) -> str:
    """The model whose list this member is served: their experiment arm's when the run has its lists."""
    experiment = state["experiment"]
    if experiment:
        arm = arm_for(SimpleNamespace(**experiment), user.pk)
        if arm is not None and arm.model in state["list_models"]:
            return arm.model
    return state["serving_model"]


def member_recommendations_refresh(*, user_id: int) -> int:
    """Replace the member's "realtime" rows in the active run; returns how many were written.

    Never raises for bad input: no history, only unknown or deleted products, a missing artifact or
    one from older code each leave the nightly and popular lists in place, with a log line.
    """
    try:
        cache.delete(pending_key(user_id))  # events from now on schedule the next refresh
    except Exception:  # cache down: the debounce just expires on its own
        logger.warning("cache unavailable for member %s refresh debounce", user_id)
    user = User.objects.filter(pk=user_id).first()
    state = serving_state()
    run_id = state["run_id"]
    if user is None or run_id is None or not state["serving_model"] or not personalization_allowed(user):
        return 0
    model_name = _served_model_name(user, state)
    loaded = fitted_model(run_id, model_name)
    if loaded is None:
        return 0  # fitted_model logged why; the nightly list and popular lists keep serving
    model, item_category = loaded
    rows = member_history_rows(user_id)
    history = history_weights(rows)
    if not history:
        logger.info("member %s has no history to fold in: nightly and popular lists stay", user_id)
        return 0
    exclude = set(bought_product_ids(user_id).values_list("product_id", flat=True))
    exclude |= set(not_interested_product_ids(user_id=user_id).values_list("product_id", flat=True))
    try:
        recs = fold_in(
            model=model,
            item_category=item_category,
            key=user_id,
            history=history,
            exclude=exclude,
            length=LIST_LENGTH,
        )
    except Exception:
        logger.exception(
            "member %s refresh: fold-in into run %s's %s failed; lists left as they were",
            user_id,
            run_id,
            model_name,
        )
        return 0
    if recs.empty:
        logger.info(
            "member %s refresh: none of %s products is known to run %s: nightly and popular lists stay",
            user_id,
            len(history),
            run_id,
        )
    found: dict = {}
    for product_id, kind, *_rest in rows:
        action = "bought" if kind == PAID_LINE else EVENT_ACTIONS.get(kind)
        if action:
            found.setdefault(product_id, []).append(action)
    actions = {pid: strongest_action(kinds) for pid, kinds in found.items()}
    viewed = any(kind == Event.Kind.VIEW for _pid, kind, *_rest in rows)
    written = []
    for item, score, rank, code, named in zip(
        recs["item_id"], recs["score"], recs["rank"], recs["reason"], recs["reason_item_id"]
    ):
        named = None if pd.isna(named) else int(named)
        action = actions.get(named) if named is not None else None
        written.append(
            MemberRecommendation(
                run_id=run_id,
                user_id=user_id,
                product_id=int(item),
                model=REALTIME_MODEL,
                score=float(score),
                rank=int(rank),
                reason=action or generic_reason(code, viewed),
                reason_product_id=named if action else None,
            )
        )
    with transaction.atomic():
        MemberRecommendation.objects.filter(run_id=run_id, user_id=user_id, model=REALTIME_MODEL).delete()
        MemberRecommendation.objects.bulk_create(written)
    member_blocks_forget(user_id)
    return len(written)
