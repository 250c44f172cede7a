"""Recommendations API views: the same selectors as the site's blocks, impressions recorded the same way.

Every block is served with its reason and with the block and model that produced each item; a
client reports a click with POST /api/v1/events/ {kind: "rec_click", product_id, context: {block,
model}}, which goes to the same tracking service as the site's click-through links.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender import selectors as recs
from recommender.privacy import personalization_allowed
from recommender.services.tracking import recommendation_impressions_record
from shop import selectors as shop_selectors
from shop.visitor import visitor_key

from . import serializers as s


class RecommendationView(APIView):
    permission_classes = [permissions.AllowAny]
    filter_backends = []
    block = ""

    def n(self, default=12):
        query = s.RecommendationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data["n"] if "n" in self.request.query_params else default

    def product(self, slug):
        product = shop_selectors.product_for_page(slug)
        if product is None:
            raise NotFound()
        return product

    def block_response(self, items, *, personalised=False):
        request = self.request
        recommendation_impressions_record(user=request.user, session_key=visitor_key(request), blocks=[items])
        data = {
            "block": self.block,
            "title": recs.block_title(self.block),
            "personalised": personalised,
            "items": items,
        }
        return Response(s.RecommendationBlockSerializer(data, context={"request": request}).data)


@extend_schema(tags=["recommendations"], parameters=[s.RecommendationQuerySerializer])
class ForMeView(RecommendationView):
    block = recs.HOME

    @extend_schema(
        summary="Recommended for me (popular when personalisation is off or for guests)",
        responses=s.RecommendationBlockSerializer,
    )
    def get(self, request):
        items = recs.recommendations_for_home(user=request.user, session_key=visitor_key(request), n=self.n())
        return self.block_response(items, personalised=personalization_allowed(request.user))


@extend_schema(tags=["recommendations"], parameters=[s.RecommendationQuerySerializer])
class SimilarView(RecommendationView):
    block = recs.SIMILAR

    @extend_schema(summary="Similar to a product", responses=s.RecommendationBlockSerializer)
    def get(self, request, slug):
        items = recs.recommendations_similar(product=self.product(slug), n=self.n(8), user=request.user)
        return self.block_response(items)


@extend_schema(tags=["recommendations"], parameters=[s.RecommendationQuerySerializer])
class BoughtTogetherView(RecommendationView):
    block = recs.BOUGHT_TOGETHER

    @extend_schema(summary="Often bought together with a product", responses=s.RecommendationBlockSerializer)
    def get(self, request, slug):
        items = recs.recommendations_bought_together(
            product=self.product(slug), n=self.n(4), user=request.user
        )
        return self.block_response(items)


@extend_schema(tags=["recommendations"], parameters=[s.RecommendationQuerySerializer])
class ForCartView(RecommendationView):
    block = recs.CART
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="What goes with my cart", responses=s.RecommendationBlockSerializer)
    def get(self, request):
        items = recs.recommendations_for_cart(cart=shop_selectors.cart_for_request(request), n=self.n(6))
        return self.block_response(items)
