"""Loading behaviour and catalogue from the database into pandas frames for the engine."""

import logging

import pandas as pd
from django.db.models import F
from django.utils import timezone

from recommender.algorithms.data import EVENT_WEIGHTS, behaviour_weights
from recommender.algorithms.feedback import HALF_LIFE_DAYS, net_feedback
from recommender.privacy import opted_out_member_ids
from shop.models import Event, Order, OrderLine, Product

logger = logging.getLogger(__name__)

# The behaviour the models learn from: weighted by the engine's one table (algorithms.data), a rating
# by its stars instead. The negative kinds (and 1-2 star ratings) count against their item and are then
# dropped (algorithms.feedback.net_feedback), so the frame holds positive rows only.
TRAINED_KINDS = (
    Event.Kind.VIEW,
    Event.Kind.CART_ADD,
    Event.Kind.FAVOURITE,
    Event.Kind.PURCHASE,
    Event.Kind.RATING,
)
NEGATIVE_KINDS = (Event.Kind.CART_REMOVE, Event.Kind.UNFAVOURITE, Event.Kind.NOT_INTERESTED)
PAID_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.RECEIVED, Order.Status.COMPLETED)
CHUNK_SIZE = 50_000


def _chunked_frame(rows, columns, chunk_size=CHUNK_SIZE) -> pd.DataFrame:
    """A frame built chunk by chunk from a values_list iterator, so memory stays flat."""
    parts, buffer = [], []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= chunk_size:
            parts.append(pd.DataFrame.from_records(buffer, columns=columns))
            buffer = []
    if buffer or not parts:
        parts.append(pd.DataFrame.from_records(buffer, columns=columns))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _seconds(series: pd.Series) -> pd.Series:
    """Unix seconds. Not ``astype("int64") // 10**9``: pandas keeps Python datetimes at microsecond
    resolution, which made every timestamp 1000 times too small (ages of decades for decay)."""
    if not len(series):
        return series.astype("float64")
    return (pd.to_datetime(series, utc=True) - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()


def interactions_frame(*, chunk_size=CHUNK_SIZE) -> pd.DataFrame:
    """Member behaviour as user_id, item_id, weight, timestamp, kind, basket_id.

    Ids are database primary keys (pseudonymous: no emails or names leave the database); members
    who turned personalisation off are left out entirely. Paid order lines are added as purchases
    with the order as basket, so baskets exist even when the storefront logged no purchase event.
    """
    opted_out = opted_out_member_ids()
    events = (
        Event.objects.filter(
            user__isnull=False, product__isnull=False, kind__in=[*TRAINED_KINDS, *NEGATIVE_KINDS]
        )
        .exclude(user_id__in=opted_out)
        .values_list("user_id", "product_id", "kind", "value", "created_at")
        .order_by()
    )
    ev = _chunked_frame(
        events.iterator(chunk_size=chunk_size),
        ["user_id", "item_id", "kind", "value", "timestamp"],
        chunk_size,
    )
    ev["weight"] = behaviour_weights(ev["kind"].astype(str), ev["value"])
    ev["basket_id"] = pd.NA

    lines = (
        OrderLine.objects.filter(
            order__user__isnull=False, order__status__in=PAID_STATUSES, product__isnull=False
        )
        .exclude(order__user_id__in=opted_out)
        .values_list("order__user_id", "product_id", "order_id", "order__created_at")
        .order_by()
    )
    ol = _chunked_frame(
        lines.iterator(chunk_size=chunk_size), ["user_id", "item_id", "basket_id", "timestamp"], chunk_size
    )
    ol["kind"] = Event.Kind.PURCHASE.value
    ol["weight"] = EVENT_WEIGHTS[Event.Kind.PURCHASE]

    columns = ["user_id", "item_id", "weight", "timestamp", "kind", "basket_id"]
    frame = pd.concat([ev[columns], ol[columns]], ignore_index=True)
    frame["timestamp"] = _seconds(frame["timestamp"]).astype("float64")
    frame["user_id"] = frame["user_id"].astype("int64")
    frame["item_id"] = frame["item_id"].astype("int64")
    frame["kind"] = frame["kind"].astype(str)
    # Net signal per (member, product), decayed by the one half-life: what was undone, hidden or rated
    # 1-2 stars is not learned as interest; the rest keep their positive rows.
    return net_feedback(frame, half_life_days=HALF_LIFE_DAYS, now=timezone.now().timestamp())


def items_frame() -> pd.DataFrame:
    """The catalogue as item_id, title, category, category_id, brand, description (active or not)."""
    rows = Product.objects.values_list(
        "id", "name", F("category__name"), "category_id", F("brand__name"), "description"
    ).order_by("id")
    frame = pd.DataFrame.from_records(
        list(rows), columns=["item_id", "title", "category", "category_id", "brand", "description"]
    )
    frame["brand"] = frame["brand"].fillna("")
    return frame
