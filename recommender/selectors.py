"""Where shoppers see recommendations: reads of the active run's lists, ready for a product card.

Every selector returns a list of `Recommendation` (product with brand, category and images loaded,
a translated reason, the block and the model for tracking), only active in-stock products, never a
non-consumable the member already bought, never a product twice (pass `exclude` to keep a page
free of repeats), and a constant number of queries whatever `n` is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from members.models import Profile
from recommender.experiments import arm_for
from recommender.models import (
    BoughtTogetherRule,
    Experiment,
    MemberRecommendation,
    PopularProduct,
    ProductSimilarity,
    TrainingRun,
)
from recommender.services.refresh import REALTIME_MODEL, bought_product_ids
from recommender.services.training import AGE_BANDS
from shop.models import Order, OrderLine, Product, ProductImage

# Blocks (what staff compare click-through by).
HOME = "home"
SIMILAR = "similar"
BOUGHT_TOGETHER = "bought_together"
CART = "cart"
AFTER_ORDER = "after_order"
MEMBER_CENTRE = "member_centre"
# gettext_noop: extracted into the catalogue here, translated when shown (block_title).
BLOCK_TITLES = {
    HOME: gettext_noop("为你推荐"),
    SIMILAR: gettext_noop("相似商品"),
    BOUGHT_TOGETHER: gettext_noop("经常一起购买"),
    CART: gettext_noop("凑单推荐"),
    AFTER_ORDER: gettext_noop("你可能还喜欢"),
    MEMBER_CENTRE: gettext_noop("为你推荐"),
}
SIMILAR_KIND_ORDER = (ProductSimilarity.Kind.ALSO_VIEWED, ProductSimilarity.Kind.SIMILAR_CONTENT,
                      ProductSimilarity.Kind.ALSO_BOUGHT)
OVERFETCH = 8  # extra candidates read, so dropping duplicates still fills the block


@dataclass
class Recommendation:
    product: object
    reason: str
    block: str
    model: str
    arm: str = ""
    reason_code: str = field(default="", repr=False)

    @property
    def click_url(self) -> str:
        return reverse("recommender:click", kwargs={
            "block": self.block, "model": self.model or "none", "product_id": self.product.pk})


def block_title(block: str) -> str:
    return _(BLOCK_TITLES.get(block, BLOCK_TITLES[HOME]))


def _products_for(ids):
    """{id: product} for the card (brand, category, images) with one query plus one for images."""
    if not ids:
        return {}
    products = (Product.objects.filter(pk__in=ids).select_related("brand", "category")
                .defer("description", "attributes")
                .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))))
    return {p.pk: p for p in products}


def _pick_ids(rows, n, exclude):
    """First n value rows (product_id first) whose product is not excluded; marks them excluded."""
    out = []
    for row in rows:
        if row[0] in exclude:
            continue
        exclude.add(row[0])
        out.append(row)
        if len(out) >= n:
            break
    return out


def _reason_for_code(code: str, name: str | None = None) -> str:
    """The sentence shown under a card for an engine reason code and the product behind it."""
    name = name or ""
    if code in ("similar_to_seen", "similar_to_recent", "content_match") and name:
        return _("因为你浏览了 %(name)s") % {"name": name}
    if code == "bought_together" and name:
        return _("因为你购买了 %(name)s") % {"name": name}
    if code == "neighbours_liked":
        return _("和你口味相似的顾客也喜欢")
    if code in ("similar_to_seen", "similar_to_recent", "content_match"):
        return _("根据你的浏览记录")
    return _("热门商品")


def _popular(*, segments, n, exclude, block, arm=""):
    """Popular products of the first segment that has them, then the next ones."""
    priority = Case(*[When(segment=s, then=Value(i)) for i, s in enumerate(segments)],
                    output_field=IntegerField())
    rows = (PopularProduct.objects.filter(run__is_active=True, segment__in=segments,
                                          product__is_active=True, product__stock__gt=0)
            .annotate(priority=priority).order_by("priority", "rank")
            .values_list("product_id", "segment")[: (n + OVERFETCH) * len(segments)])
    picked = _pick_ids(rows, n, exclude)
    products = _products_for([product_id for product_id, _segment in picked])
    out = []
    for product_id, segment in picked:
        product = products[product_id]
        if segment.startswith("profile:"):
            reason = _("与你相似的会员喜欢")
        elif segment.startswith("category:"):
            reason = _("%(category)s热销") % {"category": product.category.name}
        else:
            reason = _("热门商品")
        out.append(Recommendation(product, reason, block, "popular", arm, "popular"))
    return out


def _profile_segment(gender: str, birth_date) -> str | None:
    if not gender and not birth_date:
        return None
    band = ""
    if birth_date:
        today = date.today()
        age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
        band = next((label for low, high, label in AGE_BANDS if low <= age < high), "")
    return f"profile:{band}:{gender or ''}"


def _member_context(user):
    """(personalised allowed, profile segment or None) in one query; guests are never personalised."""
    if not getattr(user, "is_authenticated", False):
        return False, None
    row = Profile.objects.filter(user_id=user.pk).values_list(
        "personalization_enabled", "gender", "birth_date").first()
    if row is None:
        return True, None
    enabled, gender, birth_date = row
    # The profile segment is only used for members who allow personalisation.
    return enabled, (_profile_segment(gender, birth_date) if enabled else None)


def _experiment_arm(user):
    experiment = Experiment.objects.filter(is_running=True).order_by("-created_at").first()
    return arm_for(experiment, user.pk) if experiment else None


def _for_member(*, user, n, block, exclude, session_key=""):
    exclude = set() if exclude is None else exclude
    allowed, segment = _member_context(user)
    if not allowed:
        return _popular(segments=["all"], n=n, exclude=exclude, block=block)
    arm = _experiment_arm(user)
    run = TrainingRun.objects.filter(is_active=True).values_list("serving_model", "parameters").first()
    serving, arm_name = (run[0] if run else None), ""
    # An arm is served only when the run stored lists for its model (else everyone gets the same).
    if arm is not None and run and arm.model in (run[1] or {}).get("list_models", []):
        serving, arm_name = arm.model, arm.name
    picked = []
    if serving:
        # Lists refreshed after today's events come first, then the nightly list. Plain values
        # here, products loaded once for the picked ids: building model rows for every candidate
        # cost more than the queries.
        rows = (MemberRecommendation.objects.filter(
                    run__is_active=True, user_id=user.pk, model__in=[REALTIME_MODEL, serving],
                    product__is_active=True, product__stock__gt=0)
                .exclude(product_id__in=bought_product_ids(user.pk))
                .annotate(fresh_first=Case(When(model=REALTIME_MODEL, then=Value(0)), default=Value(1),
                                           output_field=IntegerField()))
                .order_by("fresh_first", "rank")
                .values_list("product_id", "model", "reason", "reason_product__name")[: 2 * n + OVERFETCH])
        chosen = _pick_ids(rows, n, exclude)
        products = _products_for([row[0] for row in chosen])
        picked = [Recommendation(products[product_id], _reason_for_code(reason, reason_name), block, model,
                                 arm_name, reason)
                  for product_id, model, reason, reason_name in chosen]
    if len(picked) < n:
        segments = [segment, "all"] if segment else ["all"]
        picked += _popular(segments=segments, n=n - len(picked), exclude=exclude, block=block, arm=arm_name)
    return picked


def recommendations_for_home(*, user, session_key="", n=12, exclude=None) -> list[Recommendation]:
    """"为你推荐": the member's list; popular for guests, opted-out members and cold starts."""
    return _for_member(user=user, n=n, block=HOME, exclude=exclude, session_key=session_key)


def recommendations_for_member_centre(*, user, n=8, exclude=None) -> list[Recommendation]:
    return _for_member(user=user, n=n, block=MEMBER_CENTRE, exclude=exclude)


def _similar_rows(product_ids, kinds, user=None):
    """Similarity rows as (similar product id, kind, name of the product it is similar to)."""
    order = Case(*[When(kind=k, then=Value(i)) for i, k in enumerate(kinds)], output_field=IntegerField())
    qs = ProductSimilarity.objects.filter(
        run__is_active=True, product_id__in=list(product_ids), kind__in=kinds,
        similar_product__is_active=True, similar_product__stock__gt=0)
    if getattr(user, "is_authenticated", False):
        qs = qs.exclude(similar_product_id__in=bought_product_ids(user.pk))
    return qs.annotate(kind_order=order)


SIMILAR_REASONS = {
    ProductSimilarity.Kind.ALSO_VIEWED: gettext_noop("看过此商品的顾客也看了"),
    ProductSimilarity.Kind.ALSO_BOUGHT: gettext_noop("购买此商品的顾客也买了"),
    ProductSimilarity.Kind.SIMILAR_CONTENT: gettext_noop("相似商品"),
}


def _build(chosen, make):
    """Recommendations for picked value rows (product id first), products loaded in one go."""
    products = _products_for([row[0] for row in chosen])
    return [make(products[row[0]], *row[1:]) for row in chosen]


def recommendations_similar(*, product, n=8, exclude=None, user=None) -> list[Recommendation]:
    """"相似商品": also viewed, then similar by description, then also bought."""
    exclude = set() if exclude is None else exclude
    exclude.add(product.pk)
    rows = (_similar_rows([product.pk], SIMILAR_KIND_ORDER, user).order_by("kind_order", "rank")
            .values_list("similar_product_id", "kind")[: 3 * n + OVERFETCH])
    picked = _build(_pick_ids(rows, n, exclude), lambda p, kind: Recommendation(
        p, _(SIMILAR_REASONS[kind]), SIMILAR, kind, "", kind))
    if len(picked) < n:  # a new or rarely seen product: best sellers of its category
        picked += _popular(segments=[f"category:{product.category_id}"], n=n - len(picked), exclude=exclude,
                           block=SIMILAR)
    return picked


def _together(*, product_ids, n, exclude, block, user, reason_for):
    """Association rules over `product_ids`, topped up with also-bought similarities."""
    exclude.update(product_ids)
    rules = BoughtTogetherRule.objects.filter(
        run__is_active=True, antecedent_id__in=list(product_ids),
        consequent__is_active=True, consequent__stock__gt=0)
    if getattr(user, "is_authenticated", False):
        rules = rules.exclude(consequent_id__in=bought_product_ids(user.pk))
    rows = rules.order_by("-confidence", "consequent_id").values_list(
        "consequent_id", "antecedent__name")[: 2 * n + OVERFETCH]
    chosen = _pick_ids(rows, n, exclude)
    if len(chosen) < n:
        rows = (_similar_rows(product_ids, (ProductSimilarity.Kind.ALSO_BOUGHT,), user).order_by("-score")
                .values_list("similar_product_id", "product__name")[: 2 * n + OVERFETCH])
        models = ["rules"] * len(chosen)
        extra = _pick_ids(rows, n - len(chosen), exclude)
        chosen += extra
        models += [ProductSimilarity.Kind.ALSO_BOUGHT.value] * len(extra)
    else:
        models = ["rules"] * len(chosen)
    products = _products_for([row[0] for row in chosen])
    return [Recommendation(products[product_id], reason_for(name), block, model, "", "bought_together")
            for (product_id, name), model in zip(chosen, models)]


def recommendations_bought_together(*, product, n=4, exclude=None, user=None) -> list[Recommendation]:
    """"经常一起购买" on the product page."""
    exclude = set() if exclude is None else exclude
    return _together(product_ids=[product.pk], n=n, exclude=exclude, block=BOUGHT_TOGETHER, user=user,
                     reason_for=lambda name: _("购买此商品的顾客也买了"))


def recommendations_for_product_page(*, product, user=None, n_similar=8, n_together=4) -> dict:
    """Both product-page blocks, with no product twice on the page (nor the product itself)."""
    exclude = {product.pk}
    together = recommendations_bought_together(product=product, n=n_together, exclude=exclude, user=user)
    similar = recommendations_similar(product=product, n=n_similar, exclude=exclude, user=user)
    return {BOUGHT_TOGETHER: together, SIMILAR: similar}


def recommendations_for_cart(*, cart, n=6, exclude=None) -> list[Recommendation]:
    """"凑单推荐": what goes with the cart's products, else popular."""
    exclude = set() if exclude is None else exclude
    product_ids = list(cart.items.values_list("product_id", flat=True)) if cart is not None else []
    user = cart.user if cart is not None and cart.user_id else None
    picked = []
    if product_ids:
        picked = _together(product_ids=product_ids, n=n, exclude=exclude, block=CART, user=user,
                           reason_for=lambda name: _("与购物车中的 %(name)s 搭配") % {"name": name})
    if len(picked) < n:
        picked += _popular(segments=["all"], n=n - len(picked), exclude=exclude, block=CART)
    return picked


def recommendations_after_order(*, order, n=6, exclude=None) -> list[Recommendation]:
    """The page after payment: what others bought with these products, else the member's list."""
    exclude = set() if exclude is None else exclude
    product_ids = [pid for pid in OrderLine.objects.filter(order=order).values_list("product_id", flat=True) if pid]
    user = order.user if order.user_id else None
    picked = _together(product_ids=product_ids, n=n, exclude=exclude, block=AFTER_ORDER, user=user,
                       reason_for=lambda name: _("购买 %(name)s 的顾客也买了") % {"name": name}) \
        if product_ids else []
    if len(picked) < n:
        if user is not None:
            picked += _for_member(user=user, n=n - len(picked), block=AFTER_ORDER, exclude=exclude)
        else:
            picked += _popular(segments=["all"], n=n - len(picked), exclude=exclude, block=AFTER_ORDER)
    return picked


def member_recommendation_explain(*, user, n=20) -> dict:
    """Staff's "why these recommendations": the stored rows with scores, model and reason."""
    run = TrainingRun.objects.filter(is_active=True).first()
    rows = []
    if run is not None:
        rows = list(MemberRecommendation.objects.filter(run=run, user=user)
                    .select_related("product", "reason_product").order_by("model", "rank")[: n * 4])
    allowed, segment = _member_context(user)
    arm = _experiment_arm(user)
    served = recommendations_for_home(user=user, n=n)
    bought = set(OrderLine.objects.filter(order__user=user, order__paid_at__isnull=False)
                 .values_list("product_id", flat=True))
    return {"run": run, "rows": rows, "allowed": allowed, "segment": segment, "arm": arm,
            "served": served, "bought": bought, "paid_orders": Order.objects.filter(
                user=user, paid_at__isnull=False).count()}
