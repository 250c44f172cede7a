"""What pages are served from: the active run's state (cached), block versions, exclusions and segments.

Selectors, surfaces, services and tasks import this module; it imports none of them, so the
serving path has one home and no import circle.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from datetime import date, timedelta

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db.models import CharField, Count, Exists, IntegerField, JSONField, OuterRef, Q, Subquery, Value
from django.utils import timezone

from recommender import engine
from recommender.algorithms.data import EVENT_WEIGHTS, decay, rating_weight
from recommender.algorithms.diversity import DEFAULT_CAP, rerank_category_cap
from recommender.algorithms.feedback import DEFAULT_REPURCHASE_DAYS, HALF_LIFE_DAYS, repurchase_intervals
from recommender.models import Experiment, TrainingRun
from shop.models import Event, OrderLine, Product

logger = logging.getLogger(__name__)

# The model name of the rows rebuilt after a member's events (served before the nightly list).
REALTIME_MODEL = "realtime"

# Blocks (what staff compare click-through by): pages render them, tracking accepts only these.
HOME = "home"
SIMILAR = "similar"
BOUGHT_TOGETHER = "bought_together"
CART = "cart"
AFTER_ORDER = "after_order"
MEMBER_CENTRE = "member_centre"
BLOCKS = frozenset({HOME, SIMILAR, BOUGHT_TOGETHER, CART, AFTER_ORDER, MEMBER_CENTRE})

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


# Learned repurchase intervals of consumables (algorithms.feedback.repurchase_intervals), cached.
REPURCHASE_CACHE_KEY = "recommender:repurchase-intervals:v1"
REPURCHASE_SECONDS = 3 * 24 * 3600  # refreshed nightly; outlives a missed night
# Intervals are rounded to these steps (days) so the exclusion stays one lazy subquery of a few terms.
REPURCHASE_STEPS = (7, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365)


def repurchase_intervals_refresh() -> dict:
    """{product id: days} learned from paid order lines of consumables, cached for REPURCHASE_SECONDS.

    A product with too few members' repeat purchases takes its category's median, else the default
    (feedback.repurchase_intervals). The nightly run calls this; pages only read the cache (a page's
    query budget has no room for learning), so until the first refresh every consumable is due after
    DEFAULT_REPURCHASE_DAYS.
    """
    lines = pd.DataFrame.from_records(
        list(
            OrderLine.objects.filter(
                order__user__isnull=False,
                order__paid_at__isnull=False,
                product__isnull=False,
                product__is_consumable=True,
            )
            .order_by()
            .values_list("order__user_id", "product_id", "order__paid_at", "product__category_id")
        ),
        columns=["user_id", "item_id", "timestamp", "category_id"],
    )
    intervals = {int(k): float(v) for k, v in repurchase_intervals(lines).items()}
    try:
        cache.set(REPURCHASE_CACHE_KEY, intervals, REPURCHASE_SECONDS)
    except Exception:
        logger.warning("cache unavailable: repurchase intervals not stored")
    return intervals


def repurchase_intervals_cached() -> dict:
    """The learned intervals from the cache; {} (every consumable due after the default) when absent."""
    try:
        return cache.get(REPURCHASE_CACHE_KEY) or {}
    except Exception:
        return {}


def _step(days: float) -> int:
    return next((step for step in REPURCHASE_STEPS if days <= step), REPURCHASE_STEPS[-1])


def bought_product_ids(user_id: int, *, now=None):
    """Products the member bought that are not recommended now: a subquery (values "product_id").

    A non-consumable stays out for good; a consumable only while now - its last paid purchase is shorter
    than its learned repurchase interval (rounded up to REPURCHASE_STEPS), so it comes back when due.
    """
    now = now or timezone.now()
    default = _step(DEFAULT_REPURCHASE_DAYS)
    by_step: dict = defaultdict(list)
    for product_id, days in repurchase_intervals_cached().items():
        if _step(days) != default:  # the default's term covers the rest: shorter SQL on every page
            by_step[_step(days)].append(product_id)
    learned = [pid for ids in by_step.values() for pid in ids]
    due_later = Q(product__is_consumable=False)
    due_later |= Q(product__is_consumable=True, order__paid_at__gt=now - timedelta(days=default)) & ~Q(
        product_id__in=learned
    )
    for step, ids in by_step.items():
        due_later |= Q(product_id__in=ids, order__paid_at__gt=now - timedelta(days=step))
    return OrderLine.objects.filter(due_later, order__user_id=user_id, order__paid_at__isnull=False).values(
        "product_id"
    )


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
    # How many categories have buyable products: the variety cap tops a list up with popular products
    # only while the catalogue has a category the list does not use yet.
    categories = (
        Product.objects.filter(is_active=True, stock__gt=0)
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(n=Count("category_id", distinct=True))
        .values("n")
    )
    row = (
        TrainingRun.objects.filter(is_active=True)
        .annotate(
            experiment_name=Subquery(running.values("name")[:1]),
            experiment_arms=Subquery(running.values("arms")[:1], output_field=JSONField()),
            buyable_categories=Subquery(categories[:1]),
        )
        .values_list(
            "pk", "serving_model", "parameters", "experiment_name", "experiment_arms", "buyable_categories"
        )
        .first()
    )
    if row is None:
        state = {
            "run_id": None,
            "serving_model": None,
            "list_models": [],
            "experiment": None,
            "categories": None,
        }
    else:
        run_id, serving, parameters, experiment_name, arms, categories = row
        state = {
            "run_id": run_id,
            "serving_model": serving or None,
            "list_models": list((parameters or {}).get("list_models", [])),
            "experiment": {"name": experiment_name, "arms": arms or []} if experiment_name else None,
            "categories": categories,
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


# A guest session's lists follow its events the same way: the receiver bumps this on each event.
def guest_version_key(session_key) -> str:
    return f"recommender:guest-version:{session_key}"


def guest_version(session_key):
    """The version of a guest session's history (None until it has events: the shared popular list)."""
    if not session_key:
        return None
    try:
        return cache.get(guest_version_key(session_key))
    except Exception:
        return None


def guest_blocks_forget(session_key) -> None:
    try:
        cache.set(guest_version_key(session_key), time.time_ns(), timeout=24 * 3600)
    except Exception:
        logger.warning("cache unavailable: guest session blocks stay as they were")


# == the one serving path's shared steps: segments, exclusions, variety, reasons, fold-in ==========
# Nightly tables, the refresh after events, guest sessions and the page reads all use these, so what
# is stored, measured and shown is built the same way (ARCHITECTURE.md "one serving path").

# The variety cap counts per block of this many items ("at most 4 of 12 from one category").
BLOCK_SIZE = 12


def category_cap() -> int:
    """Most items of one category in a block of BLOCK_SIZE (RECOMMENDER_CATEGORY_CAP; 0 turns it off)."""
    return int(getattr(settings, "RECOMMENDER_CATEGORY_CAP", DEFAULT_CAP))


def segment_min_members() -> int:
    """Members a profile segment must aggregate before its list is shown to anyone (k-anonymity)."""
    return int(getattr(settings, "RECOMMENDER_SEGMENT_MIN_MEMBERS", 20))


def segment_chain(segment: str | None) -> list[str]:
    """The member's profile segment, then the broader ones: age band only, then gender only.

    A segment list exists only when enough members are in it (tables.popular_write), so the first
    segment of the chain that has rows is the narrowest one that is safe to show.
    """
    if not segment or not segment.startswith("profile:"):
        return []
    _prefix, band, gender = (segment.split(":", 2) + ["", ""])[:3]
    chain = [segment] if band and gender else []
    if band:
        chain.append(f"profile:{band}:")
    if gender:
        chain.append(f"profile::{gender}")
    return chain


def segment_level(segment: str) -> str:
    """ "profile" (age band and gender), "age", "gender", or "" for a segment that is not a profile."""
    if not segment.startswith("profile:"):
        return ""
    _prefix, band, gender = (segment.split(":", 2) + ["", ""])[:3]
    return "profile" if band and gender else ("age" if band else ("gender" if gender else ""))


def not_interested_product_ids(*, user_id=None, session_key: str = ""):
    """Products the shopper marked "不感兴趣": a subquery, excluded from every list they see."""
    events = Event.objects.filter(kind=Event.Kind.NOT_INTERESTED, product__isnull=False)
    if user_id:
        events = events.filter(user_id=user_id)
    else:
        events = events.filter(user__isnull=True, session_key=session_key or "-")
    return events.values("product_id")


def variety_rerank(
    recs: pd.DataFrame, item_category, *, length: int, cap: int | None = None, page: int = BLOCK_SIZE
) -> pd.DataFrame:
    """Each user's best `length` candidates with at most `cap` of one category in every block of `page`.

    Every page is re-ranked by diversity.rerank_category_cap over the candidates not yet placed, so
    the first 12 are capped and so are the next 12 that read-time filters (stock, bought) fall back
    on. Ranks are renumbered 1..length; rows keep their other columns.
    """
    cap = category_cap() if cap is None else cap
    if recs.empty or not cap:
        return rerank_category_cap(recs, item_category, n=length, cap=None)
    if recs["user_id"].nunique() == 1:
        return _one_list_rerank(recs, item_category, length=length, cap=cap, page=page)
    remaining, pages, offset = recs, [], 0
    while offset < length and not remaining.empty:
        size = min(page, length - offset)
        top = rerank_category_cap(remaining, item_category, n=size, cap=cap)
        top["rank"] = top["rank"] + offset
        pages.append(top)
        placed = pd.MultiIndex.from_frame(top[["user_id", "item_id"]])
        remaining = remaining[~pd.MultiIndex.from_frame(remaining[["user_id", "item_id"]]).isin(placed)]
        offset += size
    out = pd.concat(pages, ignore_index=True)
    first_seen = {u: i for i, u in enumerate(pd.unique(recs["user_id"]))}
    out = out.assign(_user_order=out["user_id"].map(first_seen))
    return (
        out.sort_values(["_user_order", "rank"], kind="stable")
        .drop(columns="_user_order")
        .reset_index(drop=True)
    )


def _one_list_rerank(recs: pd.DataFrame, item_category, *, length: int, cap: int, page: int) -> pd.DataFrame:
    """variety_rerank for one list in plain Python (the same greedy as diversity.rerank_category_cap):
    a refresh, a guest session and a page read re-rank one list, where pandas' overhead would dominate."""
    if "rank" in recs.columns:
        ranks = recs["rank"].to_numpy()
        order = sorted(range(len(recs)), key=lambda i: (ranks[i], i))
    elif "score" in recs.columns:
        scores = recs["score"].to_numpy()
        order = sorted(range(len(recs)), key=lambda i: (-scores[i], i))
    else:
        order = list(range(len(recs)))
    items = recs["item_id"].to_numpy()
    lookup = item_category.get if hasattr(item_category, "get") else dict(item_category).get

    def category(position):
        value = lookup(items[position])
        return ("item", items[position]) if value is None or value != value else value

    remaining, placed = order, []
    while len(placed) < length and remaining:
        size = min(page, length - len(placed))
        seen: dict = defaultdict(int)
        under, over = [], []
        for position in remaining:
            key = category(position)
            (under if seen[key] < cap else over).append(position)
            seen[key] += 1
        chosen = (under + over)[:size]
        placed.extend(chosen)
        taken = set(chosen)
        remaining = [position for position in remaining if position not in taken]
    out = recs.iloc[placed].copy()
    out["rank"] = range(1, len(placed) + 1)
    return out.reset_index(drop=True)


# -- reasons: a named reason is a claim about what the shopper did, so it is checked ------------------
# Actions a reason may name, strongest first: 购买 > 评价 > 收藏 > 加购 > 浏览. "bought" is a paid
# order line only (a purchase event alone does not make it so).
ACTION_ORDER = ("bought", "reviewed", "favourited", "carted", "viewed")
EVENT_ACTIONS = {
    Event.Kind.VIEW: "viewed",
    Event.Kind.CART_ADD: "carted",
    Event.Kind.FAVOURITE: "favourited",
    Event.Kind.RATING: "reviewed",
}
ACTION_RANK = {action: i for i, action in enumerate(ACTION_ORDER)}
# Generic reason codes (no product named): "history" ("根据你的浏览记录") only for someone who viewed
# something; "neighbours_liked" and "popular" say how the item was found; "for_you" claims nothing.
GENERIC_REASONS = ("history", "neighbours_liked", "popular", "for_you")
ANY_VIEW = "any_view"  # the marker row of actions_read: the shopper viewed something


def strongest_action(actions) -> str | None:
    actions = [a for a in actions if a in ACTION_RANK]
    return min(actions, key=ACTION_RANK.__getitem__) if actions else None


def generic_reason(engine_code, viewed_something: bool) -> str:
    """The truthful generic code for an item whose evidence is not (or no longer) in the history."""
    if engine_code in ("popular", "neighbours_liked"):
        return engine_code
    return "history" if viewed_something else "for_you"


def actions_read(*, product_ids, user_id=None, session_key: str = "") -> tuple[dict, bool]:
    """({product id: strongest action}, viewed anything) of one shopper, in one query.

    Events (views, cart adds, favourites, ratings) and paid order lines on `product_ids`, plus one
    marker row when the shopper viewed anything at all (UNION drops the duplicates).
    """
    ids = [pid for pid in set(product_ids) if pid]
    events = Event.objects.filter(kind__in=list(EVENT_ACTIONS)).order_by()
    if user_id:
        events = events.filter(user_id=user_id)
    elif session_key:
        events = events.filter(user__isnull=True, session_key=session_key)
    else:
        return {}, False
    parts = [
        events.filter(kind=Event.Kind.VIEW).values_list(
            Value(0, output_field=IntegerField()), Value(ANY_VIEW, output_field=CharField())
        )
    ]
    if ids:
        parts.append(events.filter(product_id__in=ids).values_list("product_id", "kind"))
        if user_id:
            parts.append(
                OrderLine.objects.filter(
                    order__user_id=user_id, order__paid_at__isnull=False, product_id__in=ids
                )
                .values_list("product_id", Value("bought", output_field=CharField()))
                .order_by()
            )
    found: dict = defaultdict(list)
    viewed = False
    for product_id, kind in parts[0].union(*parts[1:]):
        if kind == ANY_VIEW:
            viewed = True
        else:
            found[product_id].append(EVENT_ACTIONS.get(kind, kind))
    return {pid: strongest_action(actions) for pid, actions in found.items()}, viewed


def action_annotations(*, user_id: int, product_ref: str) -> dict:
    """Exists() annotations saying what the member did with the product in column `product_ref`, and
    whether they viewed anything: a reason is verified in the same query that reads the list."""
    events = Event.objects.filter(user_id=user_id, product_id=OuterRef(product_ref))
    annotations = {
        f"did_{action}": Exists(events.filter(kind=kind)) for kind, action in EVENT_ACTIONS.items()
    }
    annotations["did_bought"] = Exists(
        OrderLine.objects.filter(
            order__user_id=user_id, order__paid_at__isnull=False, product_id=OuterRef(product_ref)
        )
    )
    annotations["did_view_anything"] = Exists(Event.objects.filter(user_id=user_id, kind=Event.Kind.VIEW))
    return annotations


def annotated_action(row) -> str | None:
    """The strongest action read by action_annotations from an annotated row."""
    return next((action for action in ACTION_ORDER if getattr(row, f"did_{action}", False)), None)


def members_actions(user_ids) -> tuple[dict, set]:
    """({(user id, product id): strongest action}, ids of members who viewed anything) for many members."""
    user_ids = [int(u) for u in user_ids]
    found: dict = defaultdict(list)
    viewers = set()
    events = (
        Event.objects.filter(user_id__in=user_ids, kind__in=list(EVENT_ACTIONS), product__isnull=False)
        .values_list("user_id", "product_id", "kind")
        .order_by()
        .distinct()
    )
    for user_id, product_id, kind in events.iterator(chunk_size=20_000):
        found[(user_id, product_id)].append(EVENT_ACTIONS[kind])
        if kind == Event.Kind.VIEW:
            viewers.add(user_id)
    lines = (
        OrderLine.objects.filter(
            order__user_id__in=user_ids, order__paid_at__isnull=False, product__isnull=False
        )
        .values_list("order__user_id", "product_id")
        .order_by()
        .distinct()
    )
    for user_id, product_id in lines.iterator(chunk_size=20_000):
        found[(user_id, product_id)].append("bought")
    return {key: strongest_action(actions) for key, actions in found.items()}, viewers


def reasons_apply(recs: pd.DataFrame, actions: dict, viewers) -> pd.DataFrame:
    """Stored reasons: the engine's reason item (the seen item contributing most) named by the strongest
    thing the member did with it, or a truthful generic code when they did nothing with it."""
    if recs.empty:
        return recs.assign(reason=pd.Series(dtype=object), reason_item_id=pd.Series(dtype=object))
    reason_items = (
        recs["reason_item_id"] if "reason_item_id" in recs.columns else pd.Series(pd.NA, index=recs.index)
    )
    codes, items = [], []
    for user_id, item, engine_code in zip(recs["user_id"], reason_items, recs["reason"]):
        action = None if pd.isna(item) else actions.get((int(user_id), int(item)))
        if action:
            codes.append(action)
            items.append(int(item))
        else:
            codes.append(generic_reason(engine_code, int(user_id) in viewers))
            items.append(None)
    return recs.assign(reason=codes, reason_item_id=pd.Series(items, index=recs.index, dtype=object))


# -- histories and the fold-in: the active run's fitted model scores a fresh history -----------------
HISTORY_KINDS = (
    Event.Kind.VIEW,
    Event.Kind.CART_ADD,
    Event.Kind.FAVOURITE,
    Event.Kind.PURCHASE,
    Event.Kind.RATING,
    # Undoing counts against the product in the fold-in, as in training (EVENT_WEIGHTS' negatives).
    Event.Kind.CART_REMOVE,
    Event.Kind.UNFAVOURITE,
)
PAID_LINE = "paid_line"  # a history row from a paid order line: weighs as a purchase, proves "bought"
MEMBER_HISTORY_EVENTS = 1000  # a member's latest events folded in (the nightly model saw them all)
SESSION_HISTORY_EVENTS = 100
MODEL_RETRY_SECONDS = 60  # a missing artifact is looked for again after this long

_models_lock = threading.Lock()
# (run id, model name) -> (model or None, item_category, loaded at, artifact mtime): this process's cache
_models: dict = {}


def fitted_model(run_id: int, name: str):
    """(model, {item id: category id}) of the run's artifact, loaded once per process; None when the
    artifact is missing, unreadable or from older code (logged; callers fall back to popular lists)."""
    key = (run_id, name)
    try:  # the file's version: a rewritten artifact (a reused run id in tests, a re-run) is loaded again
        stamp = engine.artifact_path(run_id).stat().st_mtime_ns
    except OSError:
        stamp = None
    with _models_lock:
        cached = _models.get(key)
    if (
        cached is not None
        and cached[3] == stamp
        and (cached[0] is not None or time.monotonic() - cached[2] < MODEL_RETRY_SECONDS)
    ):
        return None if cached[0] is None else (cached[0], cached[1])
    model, item_category = None, {}
    try:
        payload = engine.artifact_load(run_id)
        model = payload["models"].get(name)
        item_category = payload.get("item_category", {})
        if model is None:
            logger.warning("run %s artifact has no %s model: popular lists instead", run_id, name)
        elif not hasattr(model, "recommend_histories"):
            logger.warning(
                "run %s artifact's %s model is from older code (no fold-in): popular lists instead",
                run_id,
                name,
            )
            model = None
    except FileNotFoundError:
        logger.warning("run %s has no model artifact: popular lists instead of a fold-in", run_id)
    except Exception:
        logger.exception("run %s model artifact unreadable: popular lists instead of a fold-in", run_id)
        model = None
    with _models_lock:
        for old in [k for k in _models if k[0] != run_id]:  # one run's models in memory at a time
            del _models[old]
        _models[key] = (model, item_category, time.monotonic(), stamp)
    return None if model is None else (model, item_category)


def fitted_models_forget() -> None:
    with _models_lock:
        _models.clear()


def history_weights(rows, *, now=None) -> dict:
    """{product id: weight} from (product id, kind, value[, time]) rows by the engine's one table, as the
    training frames weigh them: EVENT_WEIGHTS (a rating through rating_weight, 1-2 stars negative), decayed
    by feedback.HALF_LIFE_DAYS when rows carry a time; each product's strongest positive plus its
    negatives, products whose net is <= 0 left out (algorithms.feedback.net_feedback)."""
    now = (now or timezone.now()).timestamp()
    strongest: dict = {}
    against: dict = defaultdict(float)
    for row in rows:
        product_id, kind, value = row[0], row[1], row[2]
        if not product_id:
            continue
        if kind == Event.Kind.RATING:
            weight = rating_weight(value)
        else:
            weight = EVENT_WEIGHTS.get(Event.Kind.PURCHASE if kind == PAID_LINE else kind)
        if not weight:
            continue
        if HALF_LIFE_DAYS is not None and len(row) > 3 and row[3] is not None:
            weight = float(decay(weight, (now - row[3].timestamp()) / 86400.0, HALF_LIFE_DAYS))
        if weight > 0:
            strongest[product_id] = max(strongest.get(product_id, 0.0), weight)
        else:
            against[product_id] += weight
    history = {pid: w + against.get(pid, 0.0) for pid, w in strongest.items()}
    return {pid: w for pid, w in history.items() if w > 0}


def member_history_rows(user_id: int) -> list:
    """(product id, kind, value, time) of the member's latest behaviour events and paid order lines
    (kind PAID_LINE, at the payment)."""
    events = list(
        Event.objects.filter(user_id=user_id, kind__in=list(HISTORY_KINDS), product__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("product_id", "kind", "value", "created_at")[:MEMBER_HISTORY_EVENTS]
    )
    lines = OrderLine.objects.filter(
        order__user_id=user_id, order__paid_at__isnull=False, product__isnull=False
    ).values_list("product_id", "order__paid_at")
    return events + [(pid, PAID_LINE, None, paid_at) for pid, paid_at in lines]


def fold_in(
    *, model, item_category, key, history: dict, exclude=(), length: int | None = None
) -> pd.DataFrame:
    """One history folded into the fitted model: candidates, active products only, variety re-ranked.

    Columns of Recommender.recommend (user_id = `key`); the history's items and `exclude` never appear.
    """
    length = length or engine.LIST_LENGTH
    recs = model.recommend_histories({key: history}, n=2 * length, exclude={key: list(exclude)})
    if recs.empty:
        return recs
    active = set(
        Product.objects.filter(pk__in=[int(i) for i in recs["item_id"]], is_active=True).values_list(
            "pk", flat=True
        )
    )
    recs = recs[recs["item_id"].isin(active)]
    return variety_rerank(recs, item_category, length=length)
