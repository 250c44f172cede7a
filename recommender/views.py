"""Click-through redirect (which block and model a shopper came from) and the "不感兴趣" control."""

import logging

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.http import safe_next_url
from recommender.services.tracking import recommendation_click_record, recommendation_not_interested
from shop.models import Product
from shop.visitor import visitor_key

logger = logging.getLogger(__name__)


def recommendation_click(request, block, model, product_id):
    product = get_object_or_404(Product, pk=product_id, is_active=True)
    try:
        recommendation_click_record(
            user=request.user,
            session_key=request.session.session_key or "",
            block=block,
            model=model,
            product=product,
        )
    except Exception:  # tracking must never stand between a shopper and the product
        logger.warning("recommendation click not recorded", exc_info=True)
    return redirect(product.get_absolute_url())


@require_POST
def not_interested(request, product_id):
    """Hide a recommended product from this shopper's lists: JSON for the script, else a redirect back."""
    product = get_object_or_404(Product, pk=product_id)
    member = request.user if request.user.is_authenticated else None
    recommendation_not_interested(
        user=member,
        session_key=visitor_key(request, create=member is None),
        product=product,
        block=request.POST.get("block", ""),
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"hidden": product.pk})
    messages.success(request, _("好的，不再向你推荐“%(name)s”。") % {"name": product.name})
    return redirect(safe_next_url(request, "/"))
