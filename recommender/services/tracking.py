"""Impressions and clicks of recommendation blocks, stored as behaviour events for click-through."""

import logging
from collections import Counter

from recommender.engine import MODEL_FACTORIES
from recommender.experiments import arm_for
from recommender.models import Experiment, ProductSimilarity
from recommender.serving import (
    BLOCKS,
    REALTIME_MODEL,
    guest_blocks_forget,
    member_blocks_forget,
    serving_state,
)
from shop.models import Event
from shop.services.events import event_record

logger = logging.getLogger(__name__)


def _member(user):
    return user if getattr(user, "is_authenticated", False) else None


def recommendation_impressions_record(*, user, session_key: str = "", blocks) -> int:
    """One rec_impression event per rendered block (lists of Recommendation), in one insert."""
    return impressions_record(
        user=user,
        session_key=session_key,
        blocks=[
            (items[0].block, [i.model for i in items], [i.product.pk for i in items], items[0].arm)
            for items in blocks
            if items
        ],
    )


def impressions_record(*, user, session_key: str = "", blocks) -> int:
    """`blocks` = [(block, models, product ids, arm), ...]: one event each, one insert in all."""
    member = _member(user)
    events = [
        Event(
            user=member,
            session_key=session_key or "",
            kind=Event.Kind.REC_IMPRESSION,
            context={
                "block": block,
                "model": Counter(models).most_common(1)[0][0],
                "models": models,
                "products": products,
                "arm": arm,
                "experiment": _experiment_name(arm),
            },
        )
        for block, models, products, arm in blocks
        if products
    ]
    if events:
        # One multi-row INSERT and nothing else. bulk_create would wrap it in a transaction, which
        # on SQLite is two more statements (BEGIN IMMEDIATE, COMMIT) on every page; a single
        # INSERT is atomic by itself. _insert is the manager method bulk_create uses underneath.
        fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
        Event.objects._insert(events, fields=fields)
    return len(events)


def _experiment_name(arm_name):
    if not arm_name:
        return ""
    experiment = serving_state()["experiment"]  # cached with the active run: no query per page
    return experiment["name"] if experiment else ""


def click_models() -> frozenset:
    """The model names a served card can carry: the engine's, the refreshed list, popular, rules and the
    similarity kinds ("none" for a card with no model)."""
    return frozenset(
        {*MODEL_FACTORIES, REALTIME_MODEL, "popular", "rules", "none", *ProductSimilarity.Kind.values}
    )


def recommendation_click_record(
    *, user, session_key: str = "", block: str, model: str, product
) -> Event | None:
    """Record a click on a served card; None (and nothing stored) for a block or model no page shows,
    so click-through figures cannot be filled with made-up names."""
    if block not in BLOCKS or model not in click_models():
        logger.info("click for unknown block/model %r/%r not recorded", block[:40], model[:40])
        return None
    member = _member(user)
    arm, experiment = "", ""
    if member is not None:
        running = Experiment.objects.filter(is_running=True).order_by("-created_at").first()
        chosen = arm_for(running, member.pk) if running else None
        if chosen is not None:
            arm, experiment = chosen.name, chosen.experiment
    return Event.objects.create(
        user=member,
        session_key=session_key or "",
        product=product,
        kind=Event.Kind.REC_CLICK,
        context={"block": block[:40], "model": model[:40], "arm": arm, "experiment": experiment},
    )


def recommendation_not_interested(*, user, session_key: str = "", product, block: str = "") -> bool:
    """A shopper's "不感兴趣" on a recommended card: stored as a negative event (never learned as interest)
    and the product is hidden from their lists at once. Returns False when it was hidden already."""
    member = _member(user)
    hidden = Event.objects.filter(kind=Event.Kind.NOT_INTERESTED, product=product)
    hidden = (
        hidden.filter(user=member)
        if member is not None
        else hidden.filter(user__isnull=True, session_key=session_key or "-")
    )
    if hidden.exists():
        return False
    event_record(
        kind=Event.Kind.NOT_INTERESTED,
        user=member,
        session_key=session_key,
        product=product,
        context={"block": (block or "")[:40]},
    )
    # Cached blocks are keyed by these versions: the next page is read again without the product.
    if member is not None:
        member_blocks_forget(member.pk)
    elif session_key:
        guest_blocks_forget(session_key)
    return True
