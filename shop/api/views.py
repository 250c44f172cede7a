"""Storefront API views: thin, they validate input and call the same selectors and services as the site."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from core.errors import DomainError
from core.http import client_ip
from recommender.services.tracking import recommendation_click_record
from shop import selectors
from shop.models import AfterSale, Category, Event, Product
from shop.services import aftersales as aftersale_services
from shop.services import cart as cart_services
from shop.services import checkout as checkout_services
from shop.services import fulfilment as fulfilment_services
from shop.services import orders as order_services
from shop.services import reviews as review_services
from shop.services.events import event_record_for_request
from shop.visitor import visitor_key

from . import serializers as s

# --- Catalogue -------------------------------------------------------------------------------


@extend_schema(tags=["catalogue"], summary="Active categories, in display order")
class CategoryListView(generics.ListAPIView):
    serializer_class = s.CategorySerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []
    pagination_class = None
    queryset = Category.objects.filter(is_active=True).order_by("position", "id")


@extend_schema(
    tags=["catalogue"], summary="Products: filter, search and order", parameters=[s.ProductQuerySerializer]
)
class ProductListView(generics.ListAPIView):
    serializer_class = s.ProductCardSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    def get_queryset(self):
        query = s.ProductQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = {
            "min_price": params.get("min_price"),
            "max_price": params.get("max_price"),
            "brand_slugs": params.get("brand") or (),
            "in_stock": params.get("in_stock", False),
        }
        if params.get("ordering"):
            filters["sort"] = params["ordering"]
        if params.get("category"):
            category = selectors.category_get(params["category"])
            if category is None:
                raise DomainError(_("分类不存在。"), code="category_not_found", field="category")
        else:
            category = None
        if params.get("q", "").strip():
            products = selectors.products_search(params["q"], **filters)
            if category is not None:
                products = products.filter(category_id__in=selectors.category_descendant_ids(category))
            return products
        if category is not None:
            return selectors.category_products(category, **filters)
        return selectors.products_filter(selectors.product_cards(), **filters)


@extend_schema(tags=["catalogue"], summary="One product with its rating summary")
class ProductDetailView(generics.RetrieveAPIView):
    serializer_class = s.ProductDetailSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []
    lookup_field = "slug"

    def get_object(self):
        product = selectors.product_for_page(self.kwargs["slug"])
        if product is None:
            raise NotFound()
        return product

    def retrieve(self, request, *args, **kwargs):
        product = self.get_object()
        context = self.get_serializer_context()
        context["rating_distribution"] = selectors.product_rating_distribution(product)
        return Response(s.ProductDetailSerializer(product, context=context).data)


@extend_schema(tags=["catalogue"])
class ProductReviewListView(generics.ListCreateAPIView):
    """Approved reviews of a product; a member who bought it writes (or edits) theirs."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    filter_backends = []

    def get_serializer_class(self):
        return s.ReviewInputSerializer if self.request.method == "POST" else s.ReviewSerializer

    def _product(self):
        product = selectors.product_for_page(self.kwargs["slug"])
        if product is None:
            raise NotFound()
        return product

    def get_queryset(self):
        return selectors.product_reviews(self._product()).select_related("user__profile")

    @extend_schema(
        summary="Write or edit my review (members who bought the product)",
        request=s.ReviewInputSerializer,
        responses={201: s.ReviewSerializer},
    )
    def post(self, request, *args, **kwargs):
        product = self._product()
        data = s.ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_services.review_submit(user=request.user, product=product, **data.validated_data)
        return Response(s.ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


# --- Cart and checkout -----------------------------------------------------------------------


def cart_payload(request):
    summary = selectors.cart_summary_for_request(request)
    return {
        "lines": [
            {
                "product": item.product,
                "quantity": item.quantity,
                "unit_price": item.unit_price,
                "price_changed": item.price_changed,
                "line_total": item.line_total,
            }
            for item in summary.lines
        ],
        "item_count": summary.item_count,
        "subtotal": summary.subtotal,
    }


def cart_response(request, status_code=status.HTTP_200_OK):
    data = s.CartSerializer(cart_payload(request), context={"request": request}).data
    return Response(data, status=status_code)


class MemberAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []


@extend_schema(tags=["cart"])
class CartView(MemberAPIView):
    @extend_schema(summary="My cart, at today's prices", responses=s.CartSerializer)
    def get(self, request):
        return cart_response(request)


@extend_schema(tags=["cart"])
class CartItemListView(MemberAPIView):
    @extend_schema(
        summary="Add a product to my cart", request=s.CartAddSerializer, responses={201: s.CartSerializer}
    )
    def post(self, request):
        data = s.CartAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_services.cart_get_or_create(user=request.user)
        cart_services.cart_add(cart=cart, **data.validated_data)
        return cart_response(request, status.HTTP_201_CREATED)


@extend_schema(tags=["cart"], parameters=[OpenApiParameter("product_id", int, OpenApiParameter.PATH)])
class CartItemDetailView(MemberAPIView):
    def _cart(self):
        cart = selectors.cart_for_request(self.request)
        if cart is None or not cart.items.filter(product_id=self.kwargs["product_id"]).exists():
            raise NotFound()
        return cart

    @extend_schema(
        summary="Change a line's quantity (0 removes it)",
        request=s.CartQuantitySerializer,
        responses=s.CartSerializer,
    )
    def patch(self, request, product_id):
        data = s.CartQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_set_quantity(
            cart=self._cart(), product_id=product_id, quantity=data.validated_data["quantity"]
        )
        return cart_response(request)

    @extend_schema(summary="Remove a line", responses={204: None})
    def delete(self, request, product_id):
        cart_services.cart_remove(cart=self._cart(), product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["cart"])
class CartQuoteView(MemberAPIView):
    @extend_schema(
        summary="Preview shipping, coupon and points on my cart (nothing is held)",
        request=s.CheckoutQuoteRequestSerializer,
        responses=s.CheckoutQuoteSerializer,
    )
    def post(self, request):
        data = s.CheckoutQuoteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        cart = selectors.cart_for_request(request)
        if cart is None or not cart.items.exists():
            raise DomainError(_("购物车是空的。"), code="empty_cart")
        summary = checkout_services.checkout_summary(
            user=request.user,
            cart=cart,
            shipping_method=params["shipping_method"],
            coupon_code=params["coupon_code"],
            points=params["points"],
            client_ip=client_ip(request),
        )
        return Response(
            s.CheckoutQuoteSerializer(
                {
                    "subtotal": summary.subtotal,
                    "shipping_method": summary.shipping_method,
                    "shipping_fee": summary.shipping_fee,
                    "coupon_code": params["coupon_code"],
                    "coupon_discount": summary.coupon_discount,
                    "points_requested": params["points"],
                    "points_used": summary.points_used,
                    "points_discount": summary.points_discount,
                    "total": summary.total,
                    "problems": [str(p) for p in summary.problems],
                }
            ).data
        )


# --- Orders and payment ----------------------------------------------------------------------


def own_order(request, number):
    """The member's own order, or 404 (another member's order looks like no order)."""
    order = selectors.order_for_member(request.user, number)
    if order is None:
        raise NotFound()
    return order


@extend_schema(tags=["orders"])
class OrderListView(generics.ListAPIView):
    serializer_class = s.OrderSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return selectors.orders_for_member(self.request.user)

    @extend_schema(
        summary="Place an order from my cart",
        request=s.OrderPlaceSerializer,
        responses={201: s.OrderSerializer, 200: s.OrderSerializer},
    )
    def post(self, request):
        data = s.OrderPlaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        if params.get("address_id"):
            address = address_for_member(request.user, params["address_id"])
        else:
            address = dict(params["address"])
        address["note"] = params.get("note", "")
        existed = selectors.order_for_idempotency_key(request.user, params["idempotency_key"]) is not None
        order = checkout_services.order_place(
            user=request.user,
            cart=selectors.cart_for_request(request),
            address=address,
            shipping_method=params["shipping_method"],
            idempotency_key=params["idempotency_key"],
            coupon_code=params["coupon_code"],
            points=params["points"],
            client_ip=client_ip(request),
        )
        order = own_order(request, order.number)
        return Response(
            s.OrderSerializer(order).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )


def address_for_member(user, address_id) -> dict:
    from members.models import Address

    address = Address.objects.filter(user=user, pk=address_id).first()
    if address is None:
        raise DomainError(_("收货地址不存在。"), code="address_not_found", field="address_id")
    return {
        name: getattr(address, name)
        for name in ("recipient_name", "phone", "province", "city", "district", "address_line", "postcode")
    }


@extend_schema(tags=["orders"], summary="One of my orders")
class OrderDetailView(generics.RetrieveAPIView):
    serializer_class = s.OrderSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_object(self):
        return own_order(self.request, self.kwargs["number"])


@extend_schema(tags=["orders"])
class OrderCancelView(MemberAPIView):
    @extend_schema(
        summary="Cancel my unpaid order (stock, coupon and points go back)",
        request=None,
        responses=s.OrderSerializer,
    )
    def post(self, request, number):
        order_services.order_cancel(
            order=own_order(request, number), by=request.user, note="cancelled by the member (API)"
        )
        return Response(s.OrderSerializer(own_order(request, number)).data)


@extend_schema(tags=["orders"])
class OrderFulfilmentView(MemberAPIView):
    @extend_schema(
        summary="My order after payment: parcels and tracking, the return window, points to come",
        responses=s.OrderFulfilmentSerializer,
    )
    def get(self, request, number):
        from shop.orders.views import order_after_payment_context

        order = own_order(request, number)
        return Response(
            s.OrderFulfilmentSerializer({"status": order.status, **order_after_payment_context(order)}).data
        )


@extend_schema(tags=["orders"])
class OrderReceiptView(MemberAPIView):
    @extend_schema(
        summary="Confirm receipt of my order (确认收货): the return window starts",
        request=None,
        responses=s.OrderSerializer,
    )
    def post(self, request, number):
        fulfilment_services.order_confirm_receipt(
            order=own_order(request, number), by=request.user, note="confirmed by the member (API)"
        )
        return Response(s.OrderSerializer(own_order(request, number)).data)


@extend_schema(tags=["orders"])
class OrderAfterSaleListView(MemberAPIView):
    @extend_schema(
        summary="My after-sales (returns and refunds) for this order",
        responses=s.AfterSaleSerializer(many=True),
    )
    def get(self, request, number):
        order = own_order(request, number)
        after_sales = AfterSale.objects.filter(order=order).prefetch_related("lines__order_line", "refunds")
        return Response(s.AfterSaleSerializer(after_sales, many=True).data)

    @extend_schema(
        summary="Ask to return or refund lines of my order (七天无理由 after receipt; refund only before shipping)",
        request=s.AfterSaleRequestSerializer,
        responses={201: s.AfterSaleSerializer},
    )
    def post(self, request, number):
        order = own_order(request, number)
        data = s.AfterSaleRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        after_sale = aftersale_services.aftersale_request(
            order=order,
            user=request.user,
            kind=params["kind"],
            reason=params["reason"],
            lines=[(row["line_id"], row["quantity"]) for row in params["lines"]],
        )
        return Response(s.AfterSaleSerializer(after_sale).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["orders"])
class OrderSandboxPaymentView(MemberAPIView):
    """Pay an order with the sandbox provider, as its payment page does.

    The sandbox page shows the shopper pay / fail / cancel buttons that post a signed callback;
    here the client picks the outcome and the same provider signs and the same handler applies it.
    """

    @extend_schema(
        summary="Pay my order in the sandbox",
        request=s.SandboxPaymentRequestSerializer,
        responses=s.PaymentSerializer,
    )
    def post(self, request, number):
        data = s.SandboxPaymentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = order_services.payment_sandbox_settle(
            order=own_order(request, number), outcome=data.validated_data["outcome"]
        )
        return Response(
            s.PaymentSerializer(
                {
                    "reference": payment.reference,
                    "provider": payment.provider,
                    "amount": payment.amount,
                    "status": payment.status,
                    "order": own_order(request, number),
                }
            ).data
        )


# --- Events ----------------------------------------------------------------------------------


@extend_schema(tags=["events"])
class EventCreateView(APIView):
    """Record a behaviour event from a client app (members and guests; rate-limited per client)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle, UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "events"

    @extend_schema(
        summary="Record a product view, a search or a click on a recommendation",
        request=s.EventInputSerializer,
        responses={201: s.EventSerializer},
    )
    def post(self, request):
        data = s.EventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        product = None
        if params.get("product_id"):
            product = Product.objects.filter(pk=params["product_id"], is_active=True).first()
            if product is None:
                raise DomainError(_("商品不存在或已下架。"), code="product_not_found", field="product_id")
        context = params.get("context", {})
        if params["kind"] == Event.Kind.REC_CLICK:
            # The same record as the site's click-through link (with the member's experiment arm).
            event = recommendation_click_record(
                user=request.user,
                session_key=visitor_key(request, create=not request.user.is_authenticated),
                block=str(context["block"]),
                model=str(context["model"]),
                product=product,
            )
            if event is None:
                raise DomainError(_("没有这个推荐位或模型。"), code="unknown_block", field="context")
        else:
            event = event_record_for_request(
                request,
                kind=params["kind"],
                product=product,
                query=params.get("query", "").strip(),
                context={**context, "client": "api"},
            )
        if event is None:
            raise DomainError(_("暂时无法记录，请稍后再试。"), code="event_not_recorded")
        return Response(s.EventSerializer(event).data, status=status.HTTP_201_CREATED)
