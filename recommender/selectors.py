"""Where shoppers see recommendations: reads of the active run's lists, ready for a product card.

Every selector returns a list of `Recommendation` (product with brand, category and images loaded,
a translated reason, the block and the model for tracking), only active in-stock products, never a
non-consumable the member already bought, never a product twice (pass `exclude` to keep a page
free of repeats), and a constant number of queries whatever `n` is.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd
from django.core.cache import cache
from django.db.models import Case, IntegerField, Prefetch, Value, When, prefetch_related_objects
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from members.models import Profile
from recommender.experiments import arm_for
from recommender.models import (
    BoughtTogetherRule,
    MemberRecommendation,
    PopularProduct,
    ProductSimilarity,
    TrainingRun,
)
from recommender.serving import (
    AFTER_ORDER,
    BOUGHT_TOGETHER,
    CART,
    EVENT_ACTIONS,
    HISTORY_KINDS,
    HOME,
    MEMBER_CENTRE,
    REALTIME_MODEL,
    SESSION_HISTORY_EVENTS,
    SIMILAR,
    action_annotations,
    actions_read,
    annotated_action,
    bought_product_ids,
    category_cap,
    fitted_model,
    fold_in,
    generic_reason,
    guest_version,
    history_weights,
    not_interested_product_ids,
    profile_segment,
    segment_chain,
    segment_level,
    serving_state,
    strongest_action,
    variety_rerank,
)
from shop.models import Event, Order, OrderLine, Product, ProductImage

logger = logging.getLogger(__name__)

# Blocks (what staff compare click-through by) are named once, in serving (imported above).

# gettext_noop: extracted into the catalogue here, translated when shown (block_title).
BLOCK_TITLES = {
    HOME: gettext_noop("为你推荐"),
    SIMILAR: gettext_noop("相似商品"),
    BOUGHT_TOGETHER: gettext_noop("经常一起购买"),
    CART: gettext_noop("凑单推荐"),
    AFTER_ORDER: gettext_noop("你可能还喜欢"),
    MEMBER_CENTRE: gettext_noop("为你推荐"),
}
SIMILAR_KIND_ORDER = (
    ProductSimilarity.Kind.ALSO_VIEWED,
    ProductSimilarity.Kind.SIMILAR_CONTENT,
    ProductSimilarity.Kind.ALSO_BOUGHT,
)
OVERFETCH = 8  # extra candidates read, so dropping duplicates still fills the block


@dataclass
class Recommendation:
    product: object
    reason: str
    block: str
    model: str
    arm: str = ""
    reason_code: str = field(default="", repr=False)
    # The product a personal reason names (checked against the shopper's own behaviour when read).
    reason_product_id: int | None = field(default=None, repr=False)

    @property
    def click_url(self) -> str:
        return reverse(
            "recommender:click",
            kwargs={"block": self.block, "model": self.model or "none", "product_id": self.product.pk},
        )


def block_title(block: str) -> str:
    return _(BLOCK_TITLES.get(block, BLOCK_TITLES[HOME]))


CARD_IMAGES = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
# Columns a card never shows: left out of every candidate row that brings its product along.
CARD_DEFERRED = ("description", "attributes")


def _with_product(queryset, relation, named=None):
    """Candidate rows with their product (brand, category) in the same query: no second product query.

    `named`: another product relation whose name explains the pick (joined, long columns left out).
    """
    queryset = queryset.select_related(f"{relation}__brand", f"{relation}__category").defer(
        *(f"{relation}__{name}" for name in CARD_DEFERRED)
    )
    if named:
        queryset = queryset.select_related(named).defer(*(f"{named}__{name}" for name in CARD_DEFERRED))
    return queryset


def images_load(recommendations):
    """One query for the images of every card in `recommendations` (several blocks at once)."""
    prefetch_related_objects([r.product for r in recommendations], CARD_IMAGES)
    return recommendations


def _pick_ids(rows, n, exclude, product_id=lambda row: row[0]):
    """First n rows whose product is not excluded (value rows: product id first); marks them excluded."""
    out = []
    for row in rows:
        key = product_id(row)
        if key in exclude:
            continue
        exclude.add(key)
        out.append(row)
        if len(out) >= n:
            break
    return out


ACTION_REASONS = {
    "bought": gettext_noop("因为你购买了 %(name)s"),
    "reviewed": gettext_noop("因为你评价了 %(name)s"),
    "favourited": gettext_noop("因为你收藏了 %(name)s"),
    "carted": gettext_noop("因为你加购了 %(name)s"),
    "viewed": gettext_noop("因为你浏览了 %(name)s"),
}
GENERIC_REASON_TEXTS = {
    "history": gettext_noop("根据你的浏览记录"),
    "neighbours_liked": gettext_noop("和你口味相似的顾客也喜欢"),
    "popular": gettext_noop("热门商品"),
    "for_you": gettext_noop("猜你喜欢"),
}
# A segment list aggregates at least RECOMMENDER_SEGMENT_MIN_MEMBERS members: its reason says which
# group, never "members like you" (which reads as a person).
SEGMENT_REASONS = {
    "profile": gettext_noop("同年龄段、同性别的会员喜欢"),
    "age": gettext_noop("同年龄段会员喜欢"),
    "gender": gettext_noop("同性别会员喜欢"),
}
GUEST_LIST_SECONDS = 120


@dataclass
class _Candidate:
    """A product on its way into a block: personal (reason to verify) or popular (reason final)."""

    product: object
    model: str
    code: str
    reason_product_id: int | None = None
    reason_name: str = ""
    reason: str = ""
    # (strongest action on the reason product, viewed anything) when read with the list itself.
    verified: tuple | None = None


def _personal_reason(candidate, actions: dict, viewed: bool) -> tuple[str, str, int | None]:
    """(sentence, code, named product id): the strongest thing the shopper really did with the reason
    product (checked now: events may have been deleted since the list was written), else a generic one."""
    if candidate.verified is not None:
        action, viewed = candidate.verified
    else:
        action = actions.get(candidate.reason_product_id) if candidate.reason_product_id else None
    if action and candidate.reason_name:
        return (
            _(ACTION_REASONS[action]) % {"name": candidate.reason_name},
            action,
            candidate.reason_product_id,
        )
    code = generic_reason(candidate.code, viewed)
    return _(GENERIC_REASON_TEXTS[code]), code, None


def _popular_reason(segment: str, product) -> str:
    level = segment_level(segment)
    if level:
        return _(SEGMENT_REASONS[level])
    if segment.startswith("category:"):
        return _("%(category)s热销") % {"category": product.category.name}
    return _("热门商品")


def _popular_candidates(*, segments, limit, user=None, session_key=""):
    """Popular products of the first segment that has them, then the next ones (products joined).

    For a member, never a non-consumable they already bought (the lists are the same for everyone,
    so this is filtered here), nor what they marked "不感兴趣" (a guest: in this session).
    """
    priority = Case(
        *[When(segment=s, then=Value(i)) for i, s in enumerate(segments)], output_field=IntegerField()
    )
    rows = PopularProduct.objects.filter(
        run__is_active=True, segment__in=segments, product__is_active=True, product__stock__gt=0
    )
    if getattr(user, "is_authenticated", False):
        rows = rows.exclude(product_id__in=bought_product_ids(user.pk)).exclude(
            product_id__in=not_interested_product_ids(user_id=user.pk)
        )
    elif session_key:
        rows = rows.exclude(product_id__in=not_interested_product_ids(session_key=session_key))
    rows = _with_product(rows, "product").annotate(priority=priority).order_by("priority", "rank")[:limit]
    return [
        _Candidate(row.product, "popular", "popular", reason=_popular_reason(row.segment, row.product))
        for row in rows
    ]


def _popular(*, segments, n, exclude, block, arm="", user=None, session_key=""):
    """Popular products of the first segment that has them, then the next ones; images loaded by the caller."""
    rows = _popular_candidates(
        segments=segments, limit=(n + OVERFETCH) * len(segments), user=user, session_key=session_key
    )
    return [
        Recommendation(c.product, c.reason, block, c.model, arm, c.code)
        for c in _pick_ids(rows, n, exclude, product_id=lambda c: c.product.pk)
    ]


def _capped(candidates, n):
    """The first n candidates with at most RECOMMENDER_CATEGORY_CAP of one category per block of 12
    (serving.variety_rerank, as the stored lists were written); over the cap only when nothing else is left."""
    if not candidates:
        return []
    frame = pd.DataFrame(
        {"user_id": 0, "item_id": range(len(candidates)), "rank": range(1, len(candidates) + 1)}
    )
    categories = {i: c.product.category_id for i, c in enumerate(candidates)}
    kept = variety_rerank(frame, categories, length=n)
    return [candidates[i] for i in kept["item_id"]]


def _over_cap(picked) -> bool:
    """True when a category is over the cap and the catalogue has a category the list does not use."""
    cap = category_cap()
    counts = Counter(c.product.category_id for c in picked)
    if not cap or not counts or max(counts.values()) <= cap:
        return False
    buyable = serving_state().get("categories")
    return buyable is None or buyable > len(counts)


def _top_up(candidates, *, n, exclude, segments, user=None, session_key=""):
    """Capped candidates, topped up with popular products when they run short or cannot keep the cap."""
    picked = _capped(candidates, n)
    if len(picked) < n or _over_cap(picked):
        taken = {c.product.pk for c in candidates}
        popular = [
            c
            for c in _popular_candidates(
                segments=segments, limit=(n + OVERFETCH) * len(segments), user=user, session_key=session_key
            )
            if c.product.pk not in exclude and c.product.pk not in taken and not taken.add(c.product.pk)
        ]
        picked = _capped(candidates + popular, n)
    return picked


def _finish(picked, *, block, arm, exclude, user_id=None, session_key=""):
    """Recommendations of the picked candidates; personal reasons verified in one query for the block."""
    personal = [c for c in picked if c.model != "popular" and c.verified is None]
    actions, viewed = {}, False
    if personal:
        actions, viewed = actions_read(
            product_ids=[c.reason_product_id for c in personal], user_id=user_id, session_key=session_key
        )
    out = []
    for c in picked:
        if c.model == "popular":
            text, code, named = c.reason, c.code, None
        else:
            text, code, named = _personal_reason(c, actions, viewed)
        exclude.add(c.product.pk)
        out.append(Recommendation(c.product, text, "", c.model, arm, code, reason_product_id=named))
    for rec in out:
        rec.block = block
    return out


MEMBER_CONTEXT_ATTRIBUTE = "_recommender_member_context"


def member_context(user) -> tuple[bool, str | None]:
    """(personalised allowed, profile segment or None) in one query, remembered on the user object
    for the rest of the request (the cache key and the block both ask); guests are never personalised."""
    if not getattr(user, "is_authenticated", False):
        return False, None
    remembered = getattr(user, MEMBER_CONTEXT_ATTRIBUTE, None)
    if remembered is not None:
        return remembered
    row = (
        Profile.objects.filter(user_id=user.pk)
        .values_list("personalization_enabled", "gender", "birth_date")
        .first()
    )
    if row is None:
        context = (True, None)
    else:
        enabled, gender, birth_date = row
        # The profile segment is only used for members who allow personalisation.
        context = (enabled, (profile_segment(gender, birth_date) if enabled else None))
    setattr(user, MEMBER_CONTEXT_ATTRIBUTE, context)
    return context


def _experiment_arm(user, state=None):
    experiment = (state or serving_state())["experiment"]
    return arm_for(SimpleNamespace(**experiment), user.pk) if experiment else None


def _for_member(*, user, n, block, exclude, session_key=""):
    """The shopper's list (a member's stored one, or a guest session's fold-in), capped for variety and
    topped up with popular products; reasons verified; images not loaded yet (images_load)."""
    exclude = set() if exclude is None else exclude
    if not getattr(user, "is_authenticated", False):
        return _for_guest(session_key=session_key, n=n, block=block, exclude=exclude)
    allowed, segment = member_context(user)
    if not allowed:
        return _popular(segments=["all"], n=n, exclude=exclude, block=block)
    state = serving_state()
    arm = _experiment_arm(user, state)
    serving, arm_name = state["serving_model"], ""
    # An arm is served only when the run stored lists for its model (else everyone gets the same).
    if arm is not None and state["run_id"] and arm.model in state["list_models"]:
        serving, arm_name = arm.model, arm.name
    candidates = []
    if serving and state["run_id"]:
        # Lists refreshed after today's events come first, then the nightly list; each candidate
        # brings its product (brand, category) so the block needs no second product query.
        rows = (
            MemberRecommendation.objects.filter(
                run_id=state["run_id"],
                user_id=user.pk,
                model__in=[REALTIME_MODEL, serving],
                product__is_active=True,
                product__stock__gt=0,
            )
            .exclude(product_id__in=bought_product_ids(user.pk))
            .exclude(product_id__in=not_interested_product_ids(user_id=user.pk))
            .annotate(
                fresh_first=Case(
                    When(model=REALTIME_MODEL, then=Value(0)), default=Value(1), output_field=IntegerField()
                ),
                **action_annotations(user_id=user.pk, product_ref="reason_product_id"),
            )
            .order_by("fresh_first", "rank")
        )
        # Overfetched: read-time filters (stock, bought, not interested) must not break the variety cap.
        rows = _with_product(rows, "product", named="reason_product")[: 3 * n + OVERFETCH]
        taken = set(exclude)
        for row in rows:
            if row.product_id in taken:
                continue
            taken.add(row.product_id)
            candidates.append(
                _Candidate(
                    row.product,
                    row.model,
                    row.reason,
                    row.reason_product_id,
                    row.reason_product.name if row.reason_product_id else "",
                    verified=(annotated_action(row), row.did_view_anything),
                )
            )
    picked = _top_up(candidates, n=n, exclude=exclude, segments=segment_chain(segment) + ["all"], user=user)
    return _finish(picked, block=block, arm=arm_name, exclude=exclude, user_id=user.pk)


def _for_guest(*, session_key, n, block, exclude):
    """A guest: the session's history (views, cart) folded into the serving model, else popular."""
    state = serving_state()
    candidates = []
    version = guest_version(session_key)
    if version is not None and state["run_id"] and state["serving_model"]:
        candidates = [
            c
            for c in _guest_candidates(session_key=session_key, state=state, version=version)
            if c.product.pk not in exclude
        ]
    picked = _top_up(candidates, n=n, exclude=exclude, segments=["all"], session_key=session_key)
    return _finish(picked, block=block, arm="", exclude=exclude, session_key=session_key)


def _guest_candidates(*, session_key, state, version):
    """The session's fold-in list, computed once per session history version and cached briefly."""
    key = f"recommender:guest-list:{state['run_id']}:{session_key}:{version}"
    try:
        listed = cache.get(key)
    except Exception:
        listed = None
    if listed is None:
        listed = _guest_fold_in(
            session_key=session_key, run_id=state["run_id"], model_name=state["serving_model"]
        )
        try:
            cache.set(key, listed, GUEST_LIST_SECONDS)
        except Exception:
            pass
    if not listed:
        return []
    products = (
        Product.objects.filter(pk__in=[row[0] for row in listed], is_active=True, stock__gt=0)
        .exclude(pk__in=not_interested_product_ids(session_key=session_key))
        .select_related("brand", "category")
        .defer(*CARD_DEFERRED)
    )
    by_id = {p.pk: p for p in products}
    return [
        _Candidate(by_id[pid], REALTIME_MODEL, code, named, name)
        for pid, code, named, name in listed
        if pid in by_id
    ]


def _guest_fold_in(*, session_key, run_id, model_name) -> list:
    """[(product id, reason code, named product id, its name)] for a guest session; [] (logged) when
    the session has no usable history or the run's model cannot be loaded."""
    rows = list(
        Event.objects.filter(
            user__isnull=True,
            session_key=session_key,
            product__isnull=False,
            kind__in=[*HISTORY_KINDS, Event.Kind.NOT_INTERESTED],
        )
        .order_by("-created_at", "-id")
        .values_list("product_id", "kind", "value")[:SESSION_HISTORY_EVENTS]
    )
    hidden = {pid for pid, kind, _value in rows if kind == Event.Kind.NOT_INTERESTED}
    history = history_weights([row for row in rows if row[1] != Event.Kind.NOT_INTERESTED])
    if not history:
        return []
    loaded = fitted_model(run_id, model_name)
    if loaded is None:
        return []
    model, item_category = loaded
    try:
        recs = fold_in(
            model=model, item_category=item_category, key=session_key, history=history, exclude=hidden
        )
    except Exception:
        logger.exception("guest session fold-in failed (run %s): popular list instead", run_id)
        return []
    if recs.empty:
        logger.info(
            "guest session history (%s products) unknown to run %s: popular list", len(history), run_id
        )
        return []
    found: dict = {}
    for pid, kind, _value in rows:
        if kind in EVENT_ACTIONS:
            found.setdefault(pid, []).append(EVENT_ACTIONS[kind])
    actions = {pid: strongest_action(kinds) for pid, kinds in found.items()}
    viewed = any(kind == Event.Kind.VIEW for _pid, kind, _value in rows)
    named_ids = {int(i) for i in recs["reason_item_id"].dropna() if actions.get(int(i))}
    names = dict(Product.objects.filter(pk__in=named_ids).values_list("pk", "name")) if named_ids else {}
    listed = []
    for item, code, named in zip(recs["item_id"], recs["reason"], recs["reason_item_id"]):
        named = None if pd.isna(named) else int(named)
        if named is not None and actions.get(named) and named in names:
            listed.append((int(item), actions[named], named, names[named]))
        else:
            listed.append((int(item), generic_reason(code, viewed), None, ""))
    return listed


def recommendations_for_home(*, user, session_key="", n=12, exclude=None) -> list[Recommendation]:
    """ "为你推荐": the member's list; popular for guests, opted-out members and cold starts."""
    return images_load(_for_member(user=user, n=n, block=HOME, exclude=exclude, session_key=session_key))


def recommendations_for_member_centre(*, user, n=8, exclude=None) -> list[Recommendation]:
    return images_load(_for_member(user=user, n=n, block=MEMBER_CENTRE, exclude=exclude))


def _similar_rows(product_ids, kinds, user=None):
    """Similarity rows of `kinds` with their similar product, in kind order then rank."""
    order = Case(*[When(kind=k, then=Value(i)) for i, k in enumerate(kinds)], output_field=IntegerField())
    qs = ProductSimilarity.objects.filter(
        run__is_active=True,
        product_id__in=list(product_ids),
        kind__in=kinds,
        similar_product__is_active=True,
        similar_product__stock__gt=0,
    )
    if getattr(user, "is_authenticated", False):
        qs = qs.exclude(similar_product_id__in=bought_product_ids(user.pk)).exclude(
            similar_product_id__in=not_interested_product_ids(user_id=user.pk)
        )
    return _with_product(qs, "similar_product").annotate(kind_order=order)


SIMILAR_REASONS = {
    ProductSimilarity.Kind.ALSO_VIEWED: gettext_noop("看过此商品的顾客也看了"),
    ProductSimilarity.Kind.ALSO_BOUGHT: gettext_noop("购买此商品的顾客也买了"),
    ProductSimilarity.Kind.SIMILAR_CONTENT: gettext_noop("相似商品"),
}


def _similar_pick(rows, *, product, n, exclude, user):
    picked = [
        Recommendation(row.similar_product, _(SIMILAR_REASONS[row.kind]), SIMILAR, row.kind, "", row.kind)
        for row in _pick_ids(rows, n, exclude, product_id=lambda r: r.similar_product_id)
    ]
    if len(picked) < n:  # a new or rarely seen product: best sellers of its category
        picked += _popular(
            segments=[f"category:{product.category_id}"],
            n=n - len(picked),
            exclude=exclude,
            block=SIMILAR,
            user=user,
        )
    return picked


def recommendations_similar(*, product, n=8, exclude=None, user=None) -> list[Recommendation]:
    """ "相似商品": also viewed, then similar by description, then also bought."""
    exclude = set() if exclude is None else exclude
    exclude.add(product.pk)
    rows = _similar_rows([product.pk], SIMILAR_KIND_ORDER, user).order_by("kind_order", "rank")[
        : 3 * n + OVERFETCH
    ]
    return images_load(_similar_pick(rows, product=product, n=n, exclude=exclude, user=user))


def _together(*, product_ids, n, exclude, block, user, reason_for, also_bought_rows=None):
    """Association rules over `product_ids`, topped up with also-bought similarities.

    `also_bought_rows` (ProductSimilarity rows with the similar product, best first) spares the
    top-up query when the caller has read them already.
    """
    exclude.update(product_ids)
    rules = BoughtTogetherRule.objects.filter(
        run__is_active=True,
        antecedent_id__in=list(product_ids),
        consequent__is_active=True,
        consequent__stock__gt=0,
    )
    if getattr(user, "is_authenticated", False):
        rules = rules.exclude(consequent_id__in=bought_product_ids(user.pk)).exclude(
            consequent_id__in=not_interested_product_ids(user_id=user.pk)
        )
    rules = _with_product(rules, "consequent", named="antecedent").order_by("-confidence", "consequent_id")[
        : 2 * n + OVERFETCH
    ]
    picked = [
        Recommendation(
            rule.consequent, reason_for(rule.antecedent.name), block, "rules", "", "bought_together"
        )
        for rule in _pick_ids(rules, n, exclude, product_id=lambda r: r.consequent_id)
    ]
    if len(picked) < n:
        if also_bought_rows is None:
            also_bought_rows = _with_product(
                _similar_rows(product_ids, (ProductSimilarity.Kind.ALSO_BOUGHT,), user),
                "similar_product",
                named="product",
            ).order_by("-score")[: 2 * n + OVERFETCH]
        picked += [
            Recommendation(
                row.similar_product,
                reason_for(row.product.name),
                block,
                ProductSimilarity.Kind.ALSO_BOUGHT.value,
                "",
                "bought_together",
            )
            for row in _pick_ids(
                also_bought_rows, n - len(picked), exclude, product_id=lambda r: r.similar_product_id
            )
        ]
    return picked


def recommendations_bought_together(*, product, n=4, exclude=None, user=None) -> list[Recommendation]:
    """ "经常一起购买" on the product page."""
    exclude = set() if exclude is None else exclude
    return images_load(
        _together(
            product_ids=[product.pk],
            n=n,
            exclude=exclude,
            block=BOUGHT_TOGETHER,
            user=user,
            reason_for=lambda name: _("购买此商品的顾客也买了"),
        )
    )


def recommendations_for_product_page(*, product, user=None, n_similar=8, n_together=4) -> dict:
    """Both product-page blocks, with no product twice on the page (nor the product itself).

    One similarity query serves both blocks (the also-bought rows top up "bought together"),
    and one query loads the images of every card.
    """
    exclude = {product.pk}
    rows = list(
        _similar_rows([product.pk], SIMILAR_KIND_ORDER, user).order_by("kind_order", "rank")[
            : 3 * (n_similar + n_together) + OVERFETCH
        ]
    )
    also_bought = sorted(
        (r for r in rows if r.kind == ProductSimilarity.Kind.ALSO_BOUGHT), key=lambda r: -r.score
    )
    together = _together(
        product_ids=[product.pk],
        n=n_together,
        exclude=exclude,
        block=BOUGHT_TOGETHER,
        user=user,
        reason_for=lambda name: _("购买此商品的顾客也买了"),
        also_bought_rows=[_named(r, product) for r in also_bought],
    )
    similar = _similar_pick(rows, product=product, n=n_similar, exclude=exclude, user=user)
    images_load(together + similar)
    return {BOUGHT_TOGETHER: together, SIMILAR: similar}


def _named(row, product):
    """A similarity row of `product`, with `product` attached (its name explains the pick)."""
    row.product = product
    return row


def recommendations_for_cart(*, cart, n=6, exclude=None, product_ids=None, user=None) -> list[Recommendation]:
    """ "凑单推荐": what goes with the cart's products, else popular.

    Pass the cart's `product_ids` and the `user` when the page has them already (no query for them).
    """
    exclude = set() if exclude is None else exclude
    if product_ids is None:
        product_ids = list(cart.items.values_list("product_id", flat=True)) if cart is not None else []
    if user is None and cart is not None and cart.user_id:
        user = cart.user
    picked = []
    if product_ids:
        picked = _together(
            product_ids=product_ids,
            n=n,
            exclude=exclude,
            block=CART,
            user=user,
            reason_for=lambda name: _("与购物车中的 %(name)s 搭配") % {"name": name},
        )
    if len(picked) < n:
        picked += _popular(segments=["all"], n=n - len(picked), exclude=exclude, block=CART, user=user)
    return images_load(picked)


def recommendations_after_order(*, order, n=6, exclude=None) -> list[Recommendation]:
    """The page after payment: what others bought with these products, else the member's list."""
    exclude = set() if exclude is None else exclude
    product_ids = [
        pid for pid in OrderLine.objects.filter(order=order).values_list("product_id", flat=True) if pid
    ]
    user = order.user if order.user_id else None
    picked = (
        _together(
            product_ids=product_ids,
            n=n,
            exclude=exclude,
            block=AFTER_ORDER,
            user=user,
            reason_for=lambda name: _("购买 %(name)s 的顾客也买了") % {"name": name},
        )
        if product_ids
        else []
    )
    if len(picked) < n:
        if user is not None:
            picked += _for_member(user=user, n=n - len(picked), block=AFTER_ORDER, exclude=exclude)
        else:
            picked += _popular(segments=["all"], n=n - len(picked), exclude=exclude, block=AFTER_ORDER)
    return images_load(picked)


def member_recommendation_explain(*, user, n=20) -> dict:
    """Staff's "why these recommendations": the stored rows with scores, model and reason."""
    run = TrainingRun.objects.filter(is_active=True).first()
    rows = []
    if run is not None:
        rows = list(
            MemberRecommendation.objects.filter(run=run, user=user)
            .select_related("product", "reason_product")
            .order_by("model", "rank")[: n * 4]
        )
    allowed, segment = member_context(user)
    arm = _experiment_arm(user)
    served = recommendations_for_home(user=user, n=n)
    bought = set(
        OrderLine.objects.filter(order__user=user, order__paid_at__isnull=False).values_list(
            "product_id", flat=True
        )
    )
    return {
        "run": run,
        "rows": rows,
        "allowed": allowed,
        "segment": segment,
        "arm": arm,
        "served": served,
        "bought": bought,
        "paid_orders": Order.objects.filter(user=user, paid_at__isnull=False).count(),
    }
