"""Read-only queries for the storefront: catalogue listings, product pages, carts and orders."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.urls import reverse

from shop import search
from shop.cache_keys import catalogue_changed
from shop.models import (
    ZERO,
    Brand,
    Cart,
    CartItem,
    Category,
    Order,
    OrderLine,
    OrderStatusChange,
    Product,
    ProductImage,
    Review,
)
from shop.visitor import SESSION_HAS_CART_KEY, visitor_key

CATEGORY_TREE_CACHE_KEY = "shop:category-tree:v1"
NAV_CATEGORIES_CACHE_KEY = "shop:nav-categories:v1"
NAV_CATEGORIES_TTL = 300
CATEGORY_LEXEMES_CACHE_KEY = "shop:category-lexemes:v1"

# A caller's extra columns on product cards, e.g. membership's favourite flag (`saved_by_visitor`)
# that the page's favourite button reads; the shop itself knows nothing of favourites.
CardAnnotation = Callable[[QuerySet], QuerySet] | None


def cart_for_request(request):
    """The cart of the logged-in member or of the anonymous visitor, or None (never creates one)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    key = visitor_key(request)
    if not key:
        return None
    return Cart.objects.filter(session_key=key, user__isnull=True).first()


def cart_item_count_for_request(request):
    """Units in the visitor's cart: one query, none for a visitor who has never added anything."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        items = CartItem.objects.filter(cart__user=user)
    else:
        key = visitor_key(request)
        if not key or not request.session.get(SESSION_HAS_CART_KEY):
            return 0  # a visitor who never added anything has no cart: no query
        items = CartItem.objects.filter(cart__session_key=key, cart__user__isnull=True)
    return items.aggregate(n=Sum("quantity"))["n"] or 0


# --- Catalogue -------------------------------------------------------------------------------

SEARCH_MAX_LENGTH = search.MAX_QUERY_LENGTH
SEARCH_MAX_TERMS = search.MAX_TERMS
PAGE_SIZE = 24

SORTS = {
    "newest": ("-created_at", "-id"),
    "price_asc": ("price", "id"),
    "price_desc": ("-price", "-id"),
    "bestselling": ("-sales_count", "-id"),
    "rating": ("-rating_avg", "-rating_count", "-id"),
}


def _annotated(queryset, annotate: CardAnnotation):
    return annotate(queryset) if annotate is not None else queryset


def product_cards(annotate: CardAnnotation = None):
    """Active products with what a product card shows, in a fixed number of queries per page."""
    return _annotated(
        Product.objects.filter(is_active=True)
        .select_related("brand")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))),
        annotate,
    )


CARD_IMAGES = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))


def products_for_home(*, limit=8, annotate: CardAnnotation = None):
    """(new arrivals, best sellers): two product queries and one images query for both lists."""
    cards = _annotated(Product.objects.filter(is_active=True).select_related("brand"), annotate)
    new_arrivals = list(cards.order_by("-created_at", "-id")[:limit])
    best_sellers = list(cards.order_by("-sales_count", "-id")[:limit])
    prefetch_related_objects([*new_arrivals, *best_sellers], CARD_IMAGES)
    return new_arrivals, best_sellers


def category_tree():
    """{parent_id: [child, ...]} of active categories; cached briefly (changes are rare)."""
    tree = cache.get(CATEGORY_TREE_CACHE_KEY)
    if tree is None:
        tree = {}
        for c in Category.objects.filter(is_active=True).only("id", "parent_id", "name", "slug"):
            tree.setdefault(c.parent_id, []).append({"id": c.id, "name": c.name, "slug": c.slug})
        cache.set(CATEGORY_TREE_CACHE_KEY, tree, 300)
    return tree


def category_descendant_ids(category) -> list[int]:
    tree = category_tree()
    ids, stack = [], [category.pk]
    while stack:
        current = stack.pop()
        ids.append(current)
        stack.extend(child["id"] for child in tree.get(current, []))
    return ids


def category_get(slug):
    """The active category for a slug, with its parent, or None."""
    return Category.objects.select_related("parent").filter(slug=slug, is_active=True).first()


def products_filter(
    queryset, *, min_price=None, max_price=None, brand_slugs=(), in_stock=False, sort="newest"
):
    if min_price is not None:
        queryset = queryset.filter(price__gte=min_price)
    if max_price is not None:
        queryset = queryset.filter(price__lte=max_price)
    if brand_slugs:
        queryset = queryset.filter(brand__slug__in=list(brand_slugs))
    if in_stock:
        queryset = queryset.filter(stock__gt=0)
    return queryset.order_by(*SORTS.get(sort, SORTS["newest"]))


def category_products(category, annotate: CardAnnotation = None, **filters):
    return products_filter(
        product_cards(annotate).filter(category_id__in=category_descendant_ids(category)), **filters
    )


def category_brands(category):
    """Brands that have active products in the category (for the filter list)."""
    return list(
        Brand.objects.filter(
            products__category_id__in=category_descendant_ids(category), products__is_active=True
        )
        .distinct()
        .order_by("name")
    )


def search_query_clean(query) -> str:
    """The query as typed, minus control characters (PostgreSQL refuses NUL), at most 100 chars."""
    return search.clean_query(query)


def search_terms(query: str) -> list[str]:
    """The query's folded, segmented terms (jieba; traditional folded to simplified)."""
    return list(search.parse_query(query).terms)


def _search_match(queryset, parsed: search.ParsedQuery):
    """Products matching every unit of the query, annotated with `search_rank` (higher is better).

    PostgreSQL: the weighted tsvector (GIN) with prefix units, ranked by ts_rank with the field weights;
    a Latin or pinyin unit of three or more letters may also match inside a name's lexeme (trigram GIN).
    SQLite: the same units as LIKE ' unit' over the same lexeme columns, ranked by the same weights."""
    units = parsed.units
    partial = [u for u in units if u.isascii() and len(u) >= 3]
    if connection.vendor == "postgresql":
        whole = SearchQuery(parsed.tsquery(), search_type="raw", config="simple")
        strict = [u for u in units if u not in partial]
        if strict:
            queryset = queryset.filter(
                search_vector=SearchQuery(
                    " & ".join(f"{u}:*" for u in strict), search_type="raw", config="simple"
                )
            )
        for unit in partial:
            queryset = queryset.filter(
                Q(search_vector=SearchQuery(f"{unit}:*", search_type="raw", config="simple"))
                | Q(search_name__contains=unit)
            )
        return queryset.annotate(
            search_rank=SearchRank(F("search_vector"), whole, weights=SEARCH_RANK_WEIGHTS)
        )
    rank = Value(0.0, output_field=FloatField())
    for unit in units:
        conditions = {field: Q(**{f"search_{field}__contains": f" {unit}"}) for field in search.FIELDS}
        match = conditions["name"] | conditions["meta"] | conditions["tags"] | conditions["body"]
        if unit in partial:
            match |= Q(search_name__contains=unit)
        queryset = queryset.filter(match)
        rank = rank + Case(
            *(When(conditions[field], then=Value(weight)) for field, weight in search.WEIGHTS.items()),
            default=Value(0.0),
            output_field=FloatField(),
        )
    return queryset.annotate(search_rank=rank)


# ts_rank's weight array is {D, C, B, A}.
SEARCH_RANK_WEIGHTS = [
    search.WEIGHTS["body"],
    search.WEIGHTS["tags"],
    search.WEIGHTS["meta"],
    search.WEIGHTS["name"],
]
RELEVANCE_ORDER = ("-search_rank", "-sales_count", "-rating_avg", "-id")
# Price bands of the search facets: [low, high) in yuan; None is open.
PRICE_BANDS = [(None, 50), (50, 100), (100, 300), (300, 1000), (1000, 3000), (3000, None)]


def products_search(query, annotate: CardAnnotation = None, *, category=None, sort="relevance", **filters):
    """Products found by a query: names, brands, category paths, tags and descriptions, segmented by
    jieba with traditional characters folded, pinyin and initials for names (see shop/search.py).
    `sort` "relevance" (the default) is ts_rank by field weight, then sales, then rating."""
    parsed = query if isinstance(query, search.ParsedQuery) else search.parse_query(query)
    if not parsed:
        return Product.objects.none()
    queryset = _search_match(product_cards(annotate), parsed)
    if category is not None:
        queryset = queryset.filter(category_id__in=category_descendant_ids(category))
    if sort == "relevance" or sort not in SORTS:
        return products_filter(queryset, **filters).order_by(*RELEVANCE_ORDER)
    return products_filter(queryset, sort=sort, **filters)


def search_facets(query, *, category=None, min_price=None, max_price=None, brand_slugs=(), in_stock=False):
    """Counts of the products a search finds by category, brand and price band (three queries). Each
    facet counts with the other facets' filters applied but not its own, so its choices stay open."""
    parsed = query if isinstance(query, search.ParsedQuery) else search.parse_query(query)
    if not parsed:
        return {"categories": [], "brands": [], "prices": []}
    base = _search_match(Product.objects.filter(is_active=True), parsed).order_by()

    def narrowed(*, by_category=True, by_brand=True, by_price=True):
        queryset = base
        if by_category and category is not None:
            queryset = queryset.filter(category_id__in=category_descendant_ids(category))
        if by_brand and brand_slugs:
            queryset = queryset.filter(brand__slug__in=list(brand_slugs))
        if by_price and min_price is not None:
            queryset = queryset.filter(price__gte=min_price)
        if by_price and max_price is not None:
            queryset = queryset.filter(price__lte=max_price)
        if in_stock:
            queryset = queryset.filter(stock__gt=0)
        return queryset

    categories = list(
        narrowed(by_category=False)
        .values("category__slug", "category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__name")[:12]
    )
    brands = list(
        narrowed(by_brand=False)
        .filter(brand__isnull=False)
        .values("brand__slug", "brand__name")
        .annotate(n=Count("id"))
        .order_by("-n", "brand__name")[:20]
    )
    counts = {}
    for index, (low, high) in enumerate(PRICE_BANDS):
        band = Q()
        if low is not None:
            band &= Q(price__gte=low)
        if high is not None:
            band &= Q(price__lt=high)
        counts[f"band{index}"] = Count("id", filter=band)
    totals = narrowed(by_price=False).aggregate(**counts)
    prices = [
        {"min": low, "max": high, "n": totals[f"band{index}"]}
        for index, (low, high) in enumerate(PRICE_BANDS)
        if totals[f"band{index}"]
    ]
    return {
        "categories": [
            {"slug": row["category__slug"], "name": row["category__name"], "n": row["n"]}
            for row in categories
        ],
        "brands": [{"slug": row["brand__slug"], "name": row["brand__name"], "n": row["n"]} for row in brands],
        "prices": prices,
    }


SUGGEST_CACHE_TTL = 60


def search_suggestions(query, *, limit=search.SUGGEST_LIMIT) -> list[dict]:
    """What to offer while a shopper types: matching categories first, then the most relevant product
    names. Short input only (SUGGEST_MAX_LENGTH); cached briefly per folded query."""
    text = search.clean_query(query)[: search.SUGGEST_MAX_LENGTH]
    parsed = search.parse_query(text)
    if not parsed:
        return []
    key = "shop:suggest:v1:" + hashlib.sha1(" ".join(parsed.units).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached[:limit]
    suggestions = []
    for item in _category_lexemes():
        if all(search.matches(item["lexemes"], unit) for unit in parsed.units):
            suggestions.append({"kind": "category", "text": item["name"], "url": item["url"]})
        if len(suggestions) >= 3:
            break
    names = (
        _search_match(Product.objects.filter(is_active=True), parsed)
        .order_by(*RELEVANCE_ORDER)
        .values_list("name", "slug")[: search.SUGGEST_LIMIT]
    )
    seen = set()
    for name, slug in names:
        if name not in seen:
            seen.add(name)
            suggestions.append({"kind": "product", "text": name, "url": reverse("shop:product", args=[slug])})
    suggestions = suggestions[: search.SUGGEST_LIMIT]
    cache.set(key, suggestions, SUGGEST_CACHE_TTL)
    return suggestions[:limit]


def _category_lexemes():
    """Active categories with their names' lexemes (pinyin too), cached with the navigation."""
    items = cache.get(CATEGORY_LEXEMES_CACHE_KEY)
    if items is None:
        items = [
            {
                "name": c.name,
                "url": c.get_absolute_url(),
                "lexemes": " " + " ".join(search.lexemes(c.name, pinyin=True)) + " ",
            }
            for c in Category.objects.filter(is_active=True).order_by("parent_id", "position", "id")
        ]
        cache.set(CATEGORY_LEXEMES_CACHE_KEY, items, NAV_CATEGORIES_TTL)
    return items


def product_for_page(slug, annotate: CardAnnotation = None):
    """The product page's product: brand, category (and parent), images and tags; or None."""
    return (
        _annotated(Product.objects.filter(slug=slug, is_active=True), annotate)
        .select_related("brand", "category", "category__parent")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")))
        .first()
    )


def rating_distribution_cache_key(product_id):
    return f"shop:rating-distribution:v1:{product_id}"


def product_rating_distribution(product) -> list[tuple[int, int]]:
    """[(5, n5), (4, n4), ..., (1, n1)] over approved reviews: one query, then cached until
    the review service recomputes the product's rating (or the count or average moves)."""
    if not product.rating_count:
        return [(stars, 0) for stars in range(5, 0, -1)]
    key = rating_distribution_cache_key(product.pk)
    cached = cache.get(key)
    if cached and cached[0] == (product.rating_count, str(product.rating_avg)):
        return cached[1]
    counts = dict(
        Review.objects.filter(product=product, status=Review.Status.APPROVED)
        .values_list("rating")
        .annotate(n=Count("id"))
        .order_by()
    )
    distribution = [(stars, counts.get(stars, 0)) for stars in range(5, 0, -1)]
    cache.set(key, ((product.rating_count, str(product.rating_avg)), distribution), 3600)
    return distribution


def review_of(user, product) -> Review | None:
    """The member's own review of the product (any status), shown back to them to edit."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Review.objects.filter(user=user, product=product).first()


def product_reviews(product):
    return (
        Review.objects.filter(product=product, status=Review.Status.APPROVED)
        .select_related("user")
        .order_by("-created_at", "-id")
    )


def orders_for_member(user):
    return (
        Order.objects.filter(user=user)
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-created_at", "-id")
    )


def order_for_member(user, number):
    """The member's own order by number, or None (someone else's order looks like no order)."""
    if not user.is_authenticated:
        return None
    return (
        Order.objects.filter(user=user, number=str(number)[:32])
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product")
                .prefetch_related("product__images")
                .order_by("id"),
            ),
            Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("created_at", "id")),
        )
        .first()
    )


def cart_lines(cart):
    """The cart's items with product, brand and images, in two queries."""
    if cart is None:
        return []
    return list(
        CartItem.objects.filter(cart=cart)
        .select_related("product", "product__brand")
        .prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id"))
        )
        .order_by("added_at", "id")
    )


def nav_categories():
    """Top-level active categories as plain dicts; cached because every page shows them."""
    categories = cache.get(NAV_CATEGORIES_CACHE_KEY)
    if categories is None:
        categories = [
            {"name": c.name, "slug": c.slug, "url": c.get_absolute_url()}
            for c in Category.objects.filter(parent__isnull=True, is_active=True)
        ]
        cache.set(NAV_CATEGORIES_CACHE_KEY, categories, NAV_CATEGORIES_TTL)
    return categories


@dataclass
class CartSummary:
    """The cart as the cart page and the API show it: lines at today's prices and their totals."""

    cart: Cart | None
    lines: list = field(default_factory=list)  # CartItem with product, brand and images

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), ZERO)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def price_changed(self) -> bool:
        return any(line.price_changed for line in self.lines)

    @property
    def unavailable(self) -> bool:
        """A line that cannot be bought as it is (product gone, or more than the stock)."""
        return any(not line.product.is_active or line.quantity > line.product.stock for line in self.lines)


def cart_summary_for_request(request) -> CartSummary:
    """The visitor's cart and its lines (two queries; none for a visitor without a cart)."""
    cart = cart_for_request(request)
    return CartSummary(cart=cart, lines=cart_lines(cart))


def order_for_idempotency_key(user, key):
    """The member's order placed with this checkout page's key, or None (a repeated submit finds it)."""
    key = str(key or "").strip()
    if not user.is_authenticated or not key or len(key) > 64:
        return None
    return Order.objects.filter(user=user, idempotency_key=key).first()


def catalogue_caches_forget():
    """Forget cached navigation and category tree after categories change (and the pages showing them)."""
    cache.delete_many([CATEGORY_TREE_CACHE_KEY, NAV_CATEGORIES_CACHE_KEY, CATEGORY_LEXEMES_CACHE_KEY])
    catalogue_changed()  # also after bulk update()s, which send no signal
