"""Near-real-time refresh: a member's list rebuilt from the similar-product tables after events."""
import logging
from collections import defaultdict

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from recommender.engine import LIST_LENGTH
from recommender.models import MemberRecommendation, ProductSimilarity, TrainingRun
from recommender.privacy import personalization_allowed
from shop.models import Event, OrderLine

logger = logging.getLogger(__name__)

REALTIME_MODEL = "realtime"
RECENT_EVENTS = 20
VIEWS_BEFORE_REFRESH = 3
DEBOUNCE_SECONDS = 3
KIND_WEIGHTS = {Event.Kind.VIEW: 1.0, Event.Kind.CART_ADD: 3.0, Event.Kind.FAVOURITE: 3.0,
                Event.Kind.PURCHASE: 4.0}


def bought_product_ids(user_id: int):
    """Products the member bought that are not consumable (never recommended again): a subquery."""
    return (OrderLine.objects.filter(order__user_id=user_id, product__is_consumable=False,
                                     order__paid_at__isnull=False)
            .values("product_id"))


def member_recommendations_refresh(*, user_id: int) -> int:
    """Replace the member's "realtime" rows in the active run; returns how many were written."""
    cache_delete_quietly(_pending_key(user_id))
    from members.models import User

    user = User.objects.filter(pk=user_id).first()
    run_id = TrainingRun.objects.filter(is_active=True).values_list("pk", flat=True).first()
    if user is None or run_id is None or not personalization_allowed(user):
        return 0
    recent = list(Event.objects.filter(user_id=user_id, product__isnull=False, kind__in=list(KIND_WEIGHTS))
                  .order_by("-created_at", "-id").values_list("product_id", "kind")[:RECENT_EVENTS])
    if not recent:
        return 0
    # Newer events weigh more; each seen product keeps its strongest weight.
    seed_weight = {}
    for position, (product_id, kind) in enumerate(recent):
        weight = KIND_WEIGHTS[kind] * (0.9 ** position)
        seed_weight[product_id] = max(seed_weight.get(product_id, 0.0), weight)
    similar = (ProductSimilarity.objects.filter(run_id=run_id, product_id__in=list(seed_weight))
               .filter(similar_product__is_active=True, similar_product__stock__gt=0)
               .exclude(similar_product_id__in=bought_product_ids(user_id))
               .values_list("product_id", "similar_product_id", "score"))
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
    rows = [MemberRecommendation(run_id=run_id, user_id=user_id, product_id=product_id, model=REALTIME_MODEL,
                                 score=score, rank=rank, reason="similar_to_recent",
                                 reason_product_id=best_reason[product_id][1])
            for rank, (product_id, score) in enumerate(ranked, start=1)]
    with transaction.atomic():
        MemberRecommendation.objects.filter(run_id=run_id, user_id=user_id, model=REALTIME_MODEL).delete()
        MemberRecommendation.objects.bulk_create(rows)
    from recommender.surfaces import member_blocks_forget

    member_blocks_forget(user_id)
    return len(rows)


def _pending_key(user_id):
    return f"recommender:refresh-pending:{user_id}"


def cache_delete_quietly(key):
    try:
        cache.delete(key)
    except Exception:  # cache down: the debounce just expires on its own
        logger.warning("cache unavailable for %s", key)


def refresh_schedule(*, user_id, kind) -> bool:
    """After a purchase, a cart add or a few views, queue a refresh once the transaction commits.

    Debounced through the cache; never raises: with the broker or cache down the event is still in
    the database and the nightly run learns from it.
    """
    if not user_id or kind not in KIND_WEIGHTS:
        return False
    try:
        if kind == Event.Kind.VIEW:
            views_key = f"recommender:views:{user_id}"
            cache.add(views_key, 0, timeout=3600)
            if cache.incr(views_key) < VIEWS_BEFORE_REFRESH:
                return False
            cache.set(views_key, 0, timeout=3600)
        if not cache.add(_pending_key(user_id), timezone.now().timestamp(), timeout=DEBOUNCE_SECONDS):
            return False
    except Exception:
        logger.warning("recommendation refresh not scheduled for member %s (cache down)", user_id)
        return False

    def _enqueue():
        from recommender.tasks import refresh_member

        try:
            refresh_member.delay(user_id)
        except Exception:
            logger.warning("recommendation refresh not queued for member %s (broker down)", user_id,
                           exc_info=True)

    transaction.on_commit(_enqueue)
    return True

