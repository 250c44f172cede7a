"""Click-through redirect: record which block and model a shopper came from, then go to the product."""
import logging

from django.shortcuts import get_object_or_404, redirect

from recommender.services.tracking import recommendation_click_record
from shop.models import Product

logger = logging.getLogger(__name__)


def recommendation_click(request, block, model, product_id):
    product = get_object_or_404(Product, pk=product_id, is_active=True)
    try:
        recommendation_click_record(user=request.user, session_key=request.session.session_key or "",
                                    block=block, model=model, product=product)
    except Exception:  # tracking must never stand between a shopper and the product
        logger.warning("recommendation click not recorded", exc_info=True)
    return redirect(product.get_absolute_url())
