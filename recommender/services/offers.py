"""Personal offers from each member's predicted next category (membership issues the coupons)."""

import logging

from django.db import transaction

from core.errors import DomainError
from members.services.coupons import personal_offer_issue
from recommender.models import MemberCategoryPrediction, TrainingRun

logger = logging.getLogger(__name__)


def personal_offers_issue(*, run_id: int) -> dict:
    """Call membership's personal_offer_issue for every prediction of the (active) run, once each."""
    if not TrainingRun.objects.filter(pk=run_id, is_active=True).exists():
        return {"issued": 0, "skipped": "run not active"}
    issued = refused = 0
    pending = (
        MemberCategoryPrediction.objects.filter(run_id=run_id, offer_issued=False)
        .select_related("user", "category")
        .order_by("pk")
    )
    for prediction in pending.iterator(chunk_size=500):
        try:
            with transaction.atomic():
                personal_offer_issue(user=prediction.user, category=prediction.category)
                MemberCategoryPrediction.objects.filter(pk=prediction.pk).update(offer_issued=True)
            issued += 1
        except DomainError as exc:  # e.g. the member already holds an offer: not an error here
            refused += 1
            logger.debug("no offer for member %s: %s", prediction.user_id, exc)
    return {"issued": issued, "refused": refused}
