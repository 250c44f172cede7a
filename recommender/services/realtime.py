"""Near-real-time lists: a member's list rebuilt from the similar-product tables after their events."""

import logging
from collections import defaultdict

from django.core.cache import cache
from django.db import transaction

from members.models import User
from recommender.algorithms.data import EVENT_WEIGHTS
from recommender.engine import LIST_LENGTH
from recommender.models import MemberRecommendation, ProductSimilarity, TrainingRun
from recommender.privacy import personalization_allowed
from recommender.serving import REALTIME_MODEL, bought_product_ids, member_blocks_forget
from shop.models import Event

logger = logging.getLogger(__name__)

RECENT_EVENTS = 20
# The behaviour that seeds a refreshed list, weighted as the nightly models weigh it.
SEED_KINDS = (Event.Kind.VIEW, Event.Kind.CART_ADD, Event.Kind.FAVOURITE, Event.Kind.PURCHASE)
SEED_WEIGHTS = {kind: EVENT_WEIGHTS[kind] for kind in SEED_KINDS}


def pending_key(user_id) -> str:
    """The debounce mark of a queued refresh (refresh_schedule sets it; the refresh clears it)."""
    return f"recommender:refresh-pending:{user_id}"


def member_recommendations_refresh(*, user_id: int) -> int:
    """Replace the member's "realtime" rows in the active run; returns how many were written."""
    try:
        cache.delete(pending_key(user_id))  # events from now on schedule the next refresh
    except Exception:  # cache down: the debounce just expires on its own
        logger.warning("cache unavailable for member %s refresh debounce", user_id)
    user = User.objects.filter(pk=user_id).first()
    run_id = TrainingRun.objects.filter(is_active=True).values_list("pk", flat=True).first()
    if user is None or run_id is None or not personalization_allowed(user):
        return 0
    recent = list(
        Event.objects.filter(user_id=user_id, product__isnull=False, kind__in=list(SEED_KINDS))
        .order_by("-created_at", "-id")
        .values_list("product_id", "kind")[:RECENT_EVENTS]
    )
    if not recent:
        return 0
    # Newer events weigh more; each seen product keeps its strongest weight.
    seed_weight = {}
    for position, (product_id, kind) in enumerate(recent):
        weight = SEED_WEIGHTS[kind] * (0.9**position)
        seed_weight[product_id] = max(seed_weight.get(product_id, 0.0), weight)
    similar = (
        ProductSimilarity.objects.filter(run_id=run_id, product_id__in=list(seed_weight))
        .filter(similar_product__is_active=True, similar_product__stock__gt=0)
        .exclude(similar_product_id__in=bought_product_ids(user_id))
        .values_list("product_id", "similar_product_id", "score")
    )
    scores = defaultdict(float)
    best_reason = {}
    for seed, candidate, score in similar:
        if candidate in seed_weight:
            continue
        contribution = seed_weight[seed] * score
        scores[candidate] += contribution
        if contribution > best_reason.get(candidate, (0.0, None))[0]:
            best_reason[candidate] = (contribution, seed)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:LIST_LENGTH]
    rows = [
        MemberRecommendation(
            run_id=run_id,
            user_id=user_id,
            product_id=product_id,
            model=REALTIME_MODEL,
            score=score,
            rank=rank,
            reason="similar_to_recent",
            reason_product_id=best_reason[product_id][1],
        )
        for rank, (product_id, score) in enumerate(ranked, start=1)
    ]
    with transaction.atomic():
        MemberRecommendation.objects.filter(run_id=run_id, user_id=user_id, model=REALTIME_MODEL).delete()
        MemberRecommendation.objects.bulk_create(rows)
    member_blocks_forget(user_id)
    return len(rows)
