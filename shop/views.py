"""Storefront pages: thin views that read through selectors and change things through services."""

import logging
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from config.pagecache import guest_page
from core.errors import DomainError
from core.http import client_ip, safe_next_url
from members.models import Favourite
from members.selectors import checkout_address_initial
from recommender.surfaces import (
    recommendation_blocks_for_cart,
    recommendation_blocks_for_home,
    recommendation_blocks_for_order,
    recommendation_blocks_for_product,
)
from shop import search as search_text
from shop import selectors
from shop.forms import (
    AddToCartForm,
    CartQuantityForm,
    CartRemoveForm,
    CheckoutForm,
    ListingFilterForm,
    ReviewForm,
    SearchFilterForm,
)
from shop.models import Event, Payment
from shop.orders.views import _own_order_or_404
from shop.payments import provider_default_name, provider_get
from shop.services.cart import (
    cart_add,
    cart_get_or_create,
    cart_prices_acknowledge,
    cart_remove,
    cart_set_quantity,
)
from shop.services.checkout import checkout_summary, order_place
from shop.services.events import event_record_for_request
from shop.services.orders import order_cancel, payment_callback_handle, payment_start
from shop.services.reviews import member_has_bought, review_submit
from shop.visitor import SESSION_HAS_CART_KEY, visitor_key

logger = logging.getLogger(__name__)
REVIEWS_PER_PAGE = 10
ORDERS_PER_PAGE = 10


def _page(request, object_list, per_page, count=None):
    paginator = Paginator(object_list, per_page)
    if count is not None:
        paginator.__dict__["count"] = count  # known already: spare the COUNT query
    page = paginator.get_page(request.GET.get("page"))
    page.elided_range = list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def _query_without_page(request):
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _favourite_flag(user):
    """For a member, each product card carries `saved_by_visitor` (the favourite button reads it instead
    of querying the member's favourites); guests' cards are unchanged."""
    if not user.is_authenticated:
        return None
    return lambda queryset: queryset.annotate(
        saved_by_visitor=Exists(Favourite.objects.filter(user_id=user.pk, product_id=OuterRef("pk")))
    )


# --- Catalogue -------------------------------------------------------------------------------


@guest_page("home", personal_recommendations=True)
@require_GET
def home(request):
    # Ten fill two rows of five on a wide screen and five rows of two on a phone.
    new_arrivals, best_sellers = selectors.products_for_home(limit=10, annotate=_favourite_flag(request.user))
    return render(
        request,
        "shop/home.html",
        {
            "top_categories": selectors.nav_categories(),
            "new_arrivals": new_arrivals,
            "best_sellers": best_sellers,
            "rec_blocks": recommendation_blocks_for_home(request),
        },
    )


@guest_page("category")
@require_GET
def category(request, slug):
    current = selectors.category_get(slug)
    if current is None:
        raise Http404(_("分类不存在。"))
    brands = selectors.category_brands(current)
    form = ListingFilterForm(request.GET or None, brands=brands)
    products = selectors.category_products(current, annotate=_favourite_flag(request.user), **form.filters())
    tree = selectors.category_tree()
    return render(
        request,
        "shop/category.html",
        {
            "category": current,
            "subcategories": tree.get(current.pk, []),
            "siblings": tree.get(current.parent_id, []) if current.parent_id else [],
            "form": form,
            "page_obj": _page(request, products, selectors.PAGE_SIZE),
            "query_string": _query_without_page(request),
        },
    )


@guest_page("search")
@require_GET
def search(request):
    parsed = search_text.parse_query(request.GET.get("q"))
    query = parsed.text
    facets = {"categories": [], "brands": [], "prices": []}
    if parsed:
        facets = selectors.search_facets(parsed, **_search_facet_filters(request))
    form = SearchFilterForm(request.GET or None, brands=_facet_brands(facets))
    filters = form.filters()
    category = selectors.category_get(form.category_slug()) if form.category_slug() else None
    products = selectors.products_search(
        parsed, annotate=_favourite_flag(request.user), category=category, **filters
    )
    page_obj = _page(request, products, selectors.PAGE_SIZE)
    marks = search_text.highlight_terms(parsed)
    for item in page_obj.object_list:
        item.highlighted_name = search_text.highlight(item.name, marks)
    if query and page_obj.number == 1:
        event_record_for_request(
            request, kind=Event.Kind.SEARCH, query=query, context={"results": page_obj.paginator.count}
        )
    return render(
        request,
        "shop/search.html",
        {
            "search_query": query,
            "search_query_cut": parsed.cut,
            "search_max_length": search_text.MAX_QUERY_LENGTH,
            "form": form,
            "facets": facets,
            "facet_category": category,
            "page_obj": page_obj,
            "query_string": _query_without_page(request),
        },
    )


def _search_facet_filters(request) -> dict:
    """The facets' own view of the filters (bad values ignored, as the form does)."""
    form = SearchFilterForm(request.GET or None, brands=[])
    filters = form.filters()
    slug = form.category_slug()
    return {
        "category": selectors.category_get(slug) if slug else None,
        "min_price": filters["min_price"],
        "max_price": filters["max_price"],
        "brand_slugs": request.GET.getlist("brand")[:20],
        "in_stock": filters["in_stock"],
    }


def _facet_brands(facets):
    return [SimpleNamespace(slug=row["slug"], name=f"{row['name']} ({row['n']})") for row in facets["brands"]]


@require_GET
def search_suggest(request):
    """Suggestions while typing (JSON): a few categories and product names; short input only."""
    suggestions = selectors.search_suggestions(request.GET.get("q", "")[: search_text.SUGGEST_MAX_LENGTH * 2])
    response = JsonResponse({"suggestions": suggestions})
    response["Cache-Control"] = "public, max-age=60"
    return response


@guest_page("product")
@require_GET
def product(request, slug):
    item = selectors.product_for_page(slug, annotate=_favourite_flag(request.user))
    if item is None:
        raise Http404(_("商品不存在或已下架。"))
    distribution = selectors.product_rating_distribution(item)
    review_total = sum(n for _stars, n in distribution)
    event_record_for_request(request, kind=Event.Kind.VIEW, product=item, context={"page": "product"})
    can_review = request.user.is_authenticated and member_has_bought(user=request.user, product=item)
    own_review = selectors.review_of(request.user, item) if can_review else None
    review_initial = (
        {"rating": own_review.rating, "title": own_review.title, "body": own_review.body}
        if own_review
        else None
    )
    return render(
        request,
        "shop/product.html",
        {
            "product": item,
            "images": list(item.images.all()),
            "specs": sorted(item.attributes.items()) if isinstance(item.attributes, dict) else [],
            "distribution": distribution,
            "review_total": review_total,
            # No reviews: an empty list spares the query.
            "reviews": _page(
                request,
                selectors.product_reviews(item) if review_total else [],
                REVIEWS_PER_PAGE,
                count=review_total,
            ),
            "cart_form": AddToCartForm(initial={"product_id": item.pk, "quantity": 1}),
            "review_form": ReviewForm(initial=review_initial),
            "can_review": can_review,
            "own_review": own_review,
            "rec_blocks": recommendation_blocks_for_product(request, item),
        },
    )


@require_POST
def review_create(request, slug):
    item = selectors.product_for_page(slug)
    if item is None:
        raise Http404(_("商品不存在或已下架。"))
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={item.get_absolute_url()}")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择 1 到 5 星评分。"))
        return redirect(item.get_absolute_url())
    editing = selectors.review_of(request.user, item) is not None
    try:
        review_submit(user=request.user, product=item, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("你的评价已修改。") if editing else _("感谢你的评价！"))
    return redirect(f"{item.get_absolute_url()}#reviews")


# --- Cart ------------------------------------------------------------------------------------


def _cart_for_change(request):
    user = request.user if request.user.is_authenticated else None
    if user is None:
        request.session[SESSION_HAS_CART_KEY] = True
    return cart_get_or_create(user=user, session_key="" if user else visitor_key(request, create=True))


@require_GET
def cart(request):
    summary = selectors.cart_summary_for_request(request)
    lines = summary.lines
    return render(
        request,
        "shop/cart.html",
        {
            "lines": [
                (line, CartQuantityForm(initial={"product_id": line.product_id, "quantity": line.quantity}))
                for line in lines
            ],
            "subtotal": summary.subtotal,
            "price_changed": summary.price_changed,
            "unavailable": summary.unavailable,
            # The header's cart size, known from the lines: spares the context processor's query.
            "cart_count": summary.item_count,
            "rec_blocks": recommendation_blocks_for_cart(
                request, summary.cart, product_ids=[line.product_id for line in lines]
            ),
        },
    )


@require_POST
def cart_add_view(request):
    form = AddToCartForm(request.POST)
    fallback = reverse("shop:cart")
    if not form.is_valid():
        messages.error(request, _("请输入 1 到 99 之间的数量。"))
        return redirect(safe_next_url(request, fallback))
    try:
        item = cart_add(
            cart=_cart_for_change(request),
            product_id=form.cleaned_data["product_id"],
            quantity=form.cleaned_data["quantity"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(safe_next_url(request, fallback))
    messages.success(request, _("已将“%(name)s”加入购物车。") % {"name": item.product.name})
    if request.POST.get("buy_now"):  # 立即购买: the same add, then straight on to checkout
        return redirect("shop:checkout")
    return redirect(safe_next_url(request, fallback))


@require_POST
def cart_update_view(request):
    if "acknowledge_prices" in request.POST:
        current = selectors.cart_for_request(request)
        if current is not None:
            cart_prices_acknowledge(cart=current)
        return redirect("shop:cart")
    form = CartQuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请输入 0 到 99 之间的数量。"))
        return redirect("shop:cart")
    current = selectors.cart_for_request(request)
    if current is None:
        messages.error(request, _("购物车中没有这件商品。"))
        return redirect("shop:cart")
    try:
        cart_set_quantity(cart=current, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("购物车已更新。"))
    return redirect("shop:cart")


@require_POST
def cart_remove_view(request):
    form = CartRemoveForm(request.POST)
    current = selectors.cart_for_request(request)
    if not form.is_valid() or current is None:
        messages.error(request, _("购物车中没有这件商品。"))
        return redirect("shop:cart")
    try:
        cart_remove(cart=current, product_id=form.cleaned_data["product_id"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已从购物车移除。"))
    return redirect("shop:cart")


# --- Checkout and orders ---------------------------------------------------------------------


@login_required
def checkout(request):
    if request.method == "POST" and "preview" not in request.POST:
        # A repeated submit of a page whose order exists goes to that order's payment, as the first did.
        placed = selectors.order_for_idempotency_key(request.user, request.POST.get("idempotency_key"))
        if placed is not None:
            return _pay_redirect(request, placed)
    current = selectors.cart_for_request(request)
    lines = selectors.cart_lines(current)
    if not lines:
        messages.info(request, _("购物车是空的，先去逛逛吧。"))
        return redirect("shop:cart")
    # Prefilled from the member's default address (membership's address book).
    form = CheckoutForm(request.POST or None, initial=checkout_address_initial(request.user))
    shipping_method = (
        request.POST.get("shipping_method")
        if request.method == "POST"
        else form.fields["shipping_method"].initial
    )
    coupon_code = request.POST.get("coupon_code", "")[:32] if request.method == "POST" else ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" not in request.POST:
            try:
                order = order_place(
                    user=request.user,
                    cart=current,
                    address=form.address(),
                    shipping_method=data["shipping_method"],
                    idempotency_key=data["idempotency_key"],
                    coupon_code=data.get("coupon_code") or "",
                    points=data.get("points") or 0,
                    client_ip=client_ip(request),
                )
            except DomainError as error:
                if error.field and error.field in form.fields:
                    form.add_error(error.field, error.message)
                else:
                    form.add_error(None, error.message)
            else:
                return _pay_redirect(request, order)
    try:
        points = int(request.POST.get("points") or 0) if request.method == "POST" else 0
    except ValueError:
        points = 0
    summary = checkout_summary(
        user=request.user,
        cart=current,
        shipping_method=shipping_method or "",
        coupon_code=coupon_code,
        points=max(points, 0),
        client_ip=client_ip(request),
    )
    return render(request, "shop/checkout.html", {"form": form, "lines": lines, "summary": summary})


def _pay_redirect(request, order):
    try:
        # The method the shopper chose on the pay page (checkout offers the first configured one).
        provider_name = request.POST.get("provider") or provider_default_name()
        _payment, url = payment_start(order=order, provider_name=provider_name)
    except DomainError as error:
        messages.info(request, error.message)
        return redirect(order.get_absolute_url())
    return redirect(url)


@login_required
@require_GET
def order_list(request):
    return render(
        request,
        "shop/order_list.html",
        {
            "page_obj": _page(request, selectors.orders_for_member(request.user), ORDERS_PER_PAGE),
        },
    )


@login_required
@require_POST
def order_cancel_view(request, number):
    order = _own_order_or_404(request, number)
    try:
        order_cancel(order=order, by=request.user, note="cancelled by the shopper")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("订单已取消，库存和优惠已退回。"))
    return redirect(order.get_absolute_url())


@login_required
@require_POST
def order_pay(request, number):
    return _pay_redirect(request, _own_order_or_404(request, number))


@login_required
@require_GET
def order_paid(request, number):
    order = _own_order_or_404(request, number)
    return render(
        request,
        "shop/order_paid.html",
        {"order": order, "rec_blocks": recommendation_blocks_for_order(request, order)},
    )


# --- Payments --------------------------------------------------------------------------------


@login_required
@require_GET
def sandbox_pay(request, reference):
    payment = (
        Payment.objects.select_related("order")
        .filter(reference=str(reference)[:64], order__user=request.user, provider="sandbox")
        .first()
    )
    if payment is None or "sandbox" not in settings.PAYMENT_PROVIDERS:
        # Only sandbox payments: this page signs a "paid" callback for whatever payment it shows.
        raise Http404(_("支付不存在。"))
    provider = provider_get("sandbox")
    return render(
        request,
        "shop/sandbox_pay.html",
        {
            "payment": payment,
            "order": payment.order,
            "outcomes": [
                (outcome, provider.callback_fields(payment, outcome)) for outcome in provider.OUTCOMES
            ],
            "is_pending": payment.status == Payment.Status.PENDING,
        },
    )


@csrf_exempt  # the provider posts here; the HMAC signature is what authenticates the call
@require_POST
def payment_callback(request):
    try:
        payment = payment_callback_handle(data=request.POST)
    except DomainError as error:
        return HttpResponseBadRequest(error.message, content_type="text/plain; charset=utf-8")
    order = payment.order
    if payment.status == Payment.Status.SUCCEEDED:
        return redirect("shop:order_paid", number=order.number)
    if payment.status in (Payment.Status.FAILED, Payment.Status.CANCELLED):
        messages.warning(request, _("支付未完成，你可以稍后在订单页重新支付。"))
    return redirect(order.get_absolute_url())
