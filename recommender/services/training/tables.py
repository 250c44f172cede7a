"""The product-level top-N tables a run writes: similar products, bought-together rules, popular lists."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from django.utils import timezone

from members.models import Profile
from recommender import engine
from recommender.models import BoughtTogetherRule, PopularProduct, ProductSimilarity
from recommender.services.training.bulk import rows_write
from recommender.serving import profile_segment, segment_chain, segment_min_members, variety_rerank
from shop.models import Event, Product

logger = logging.getLogger(__name__)

POPULAR_LENGTH = 50
SEGMENT_LENGTH = 20
VIEW_KINDS = (Event.Kind.VIEW, Event.Kind.CART_ADD, Event.Kind.FAVOURITE)


def _similar_frame(model, item_ids) -> pd.DataFrame:
    return model.similar_items(item_ids, n=engine.SIMILAR_LENGTH)


def similarities_write(run_id, interactions, items) -> None:
    """also viewed (views, carts, favourites), also bought (purchases), similar content (text)."""
    sources = {
        ProductSimilarity.Kind.ALSO_VIEWED: interactions[interactions["kind"].isin(VIEW_KINDS)],
        ProductSimilarity.Kind.ALSO_BOUGHT: interactions[interactions["kind"] == Event.Kind.PURCHASE],
    }
    frames = []
    for kind, part in sources.items():
        if part["user_id"].nunique() < 2:
            continue
        model = engine.model_build("itemknn").fit(part[["user_id", "item_id", "weight"]])
        frames.append(_similar_frame(model, model.item_ids_).assign(kind=kind.value))
    if len(items):
        try:
            content = engine.TfidfContent().fit(interactions[["user_id", "item_id", "weight"]], items=items)
            frames.append(
                _similar_frame(content, items["item_id"]).assign(
                    kind=ProductSimilarity.Kind.SIMILAR_CONTENT.value
                )
            )
        except ValueError as exc:  # ModelUnavailable: no product text
            logger.warning("content similarity skipped: %s", exc)
    rows = (
        ProductSimilarity(
            run_id=run_id,
            product_id=int(r.item_id),
            similar_product_id=int(r.similar_item_id),
            kind=r.kind,
            score=float(r.score),
            rank=int(r.rank),
        )
        for frame in frames
        for r in frame.itertuples(index=False)
    )
    rows_write(ProductSimilarity, rows)


def rules_write(run_id, interactions) -> None:
    baskets = interactions[interactions["basket_id"].notna()][["user_id", "item_id", "basket_id"]]
    if baskets["basket_id"].nunique() < 2:
        return
    model = engine.AssociationRules(min_count=2, max_rules_per_item=engine.SIMILAR_LENGTH)
    model.fit(baskets.astype({"basket_id": "int64"}))
    rows = (
        BoughtTogetherRule(
            run_id=run_id,
            antecedent_id=int(r.antecedent),
            consequent_id=int(r.consequent),
            support=float(r.support),
            confidence=float(r.confidence),
            lift=float(r.lift),
        )
        for r in model.rules_.itertuples(index=False)
    )
    rows_write(BoughtTogetherRule, rows)


def _top_by_segment(frame: pd.DataFrame, length: int) -> pd.DataFrame:
    scores = frame.groupby(["segment", "item_id"], as_index=False)["weight"].sum()
    scores = scores.sort_values(["segment", "weight", "item_id"], ascending=[True, False, True])
    scores["rank"] = scores.groupby("segment").cumcount() + 1
    return scores[scores["rank"] <= length]


def _profile_segments(profiles: pd.DataFrame, weighted: pd.DataFrame) -> pd.DataFrame:
    """user_id, segment: each member in their profile segment and the broader ones (age band only,
    gender only), keeping only segments with at least RECOMMENDER_SEGMENT_MIN_MEMBERS members whose
    behaviour is in the list (fewer, and a stranger would see one person's purchases)."""
    today = timezone.localdate()
    pairs = [
        (user_id, segment)
        for user_id, gender, birth_date in zip(
            profiles["user_id"], profiles["gender"], profiles["birth_date"]
        )
        for segment in segment_chain(profile_segment(gender, birth_date, today))
    ]
    member_segments = pd.DataFrame(pairs, columns=["user_id", "segment"])
    contributors = member_segments[member_segments["user_id"].isin(pd.unique(weighted["user_id"]))]
    sizes = contributors.groupby("segment")["user_id"].nunique()
    allowed = set(sizes[sizes >= segment_min_members()].index)
    skipped = sorted(set(sizes.index) - allowed)
    if skipped:
        logger.info(
            "profile segments under %s members not written: %s", segment_min_members(), ", ".join(skipped)
        )
    return member_segments[member_segments["segment"].isin(allowed)]


def _capped(top: pd.DataFrame, length: int, items: pd.DataFrame) -> pd.DataFrame:
    """The variety cap over each segment's ranked list (segment in the user column)."""
    if top.empty:
        return top
    category = items.set_index("item_id")["category_id"]
    ranked = variety_rerank(top.rename(columns={"segment": "user_id"}), category, length=length)
    return ranked.rename(columns={"user_id": "segment"})


def popular_write(run_id, interactions, items) -> None:
    """Cold-start lists: overall, per category, and per profile segment (age band × gender)."""
    if len(interactions):
        # Recent behaviour counts more: halve the weight every 30 days.
        age_days = (interactions["timestamp"].max() - interactions["timestamp"]) / 86400.0
        weighted = interactions.assign(weight=interactions["weight"] * np.power(0.5, age_days / 30.0))
        weighted = weighted[["user_id", "item_id", "weight"]]
    else:  # no behaviour yet: best sellers, then newest
        ranked = list(
            Product.objects.filter(is_active=True)
            .order_by("-sales_count", "-created_at")
            .values_list("id", flat=True)[:500]
        )
        weighted = pd.DataFrame(
            {
                "user_id": 0,
                "item_id": ranked,
                "weight": np.linspace(1.0, 0.5, num=len(ranked)) if ranked else [],
            }
        )
    category = items.set_index("item_id")["category_id"]
    parts = [weighted.assign(segment="all")]
    with_cat = weighted.assign(
        segment="category:" + weighted["item_id"].map(category).astype("Int64").astype(str)
    )
    parts.append(with_cat[with_cat["segment"] != "category:<NA>"])
    profiles = pd.DataFrame.from_records(
        list(Profile.objects.values_list("user_id", "gender", "birth_date")),
        columns=["user_id", "gender", "birth_date"],
    )
    if len(profiles) and len(interactions):
        parts.append(weighted.merge(_profile_segments(profiles, weighted), on="user_id"))
    frame = pd.concat(parts, ignore_index=True)
    shown_to_members = frame["segment"].eq("all") | frame["segment"].str.startswith("profile:")
    # Lists members see get the variety cap (their candidates: twice the length); category lists
    # are one category by definition.
    top = pd.concat(
        [
            _capped(
                _top_by_segment(frame[frame["segment"] == "all"], 2 * POPULAR_LENGTH), POPULAR_LENGTH, items
            ),
            _capped(
                _top_by_segment(frame[shown_to_members & (frame["segment"] != "all")], 2 * SEGMENT_LENGTH),
                SEGMENT_LENGTH,
                items,
            ),
            _top_by_segment(frame[~shown_to_members], SEGMENT_LENGTH),
        ]
    )
    rows = (
        PopularProduct(
            run_id=run_id,
            segment=r.segment,
            product_id=int(r.item_id),
            score=float(r.weight),
            rank=int(r.rank),
        )
        for r in top.itertuples(index=False)
    )
    rows_write(PopularProduct, rows)
