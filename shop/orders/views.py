"""The member's side of an order after payment: shipments, receipt (确认收货), after-sales and points to come."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from members.services.points import points_order_entries, points_order_pending
from shop import selectors
from shop.models import AfterSale, Order
from shop.payments import payment_methods
from shop.services.aftersales import (
    MAX_PHOTOS,
    aftersale_kinds_allowed,
    aftersale_open_quantities,
    aftersale_request,
)
from shop.services.fulfilment import order_confirm_receipt, order_return_window_ends


def _own_order_or_404(request, number):
    order = selectors.order_for_member(request.user, number)
    if order is None:
        raise Http404(_("订单不存在。"))
    return order


def order_after_payment_context(order) -> dict:
    """What the order page shows after payment: parcels, the return window, after-sales, points to come."""
    shipments = list(order.shipments.prefetch_related("lines__order_line"))
    after_sales = list(
        AfterSale.objects.filter(order=order).prefetch_related("lines__order_line", "photos", "refunds")
    )
    window_ends = order_return_window_ends(order)
    pending = points_order_pending(order=order) if order.user_id else 0
    return {
        "shipments": shipments,
        "after_sales": after_sales,
        "return_window_ends": window_ends,
        "aftersale_kinds": aftersale_kinds_allowed(order),
        "can_confirm_receipt": order.status == Order.Status.SHIPPED,
        "points_pending": pending,
        # The date the order completes: pending points arrive then, without anyone doing anything.
        "points_release_date": window_ends if pending and order.status != Order.Status.COMPLETED else None,
        "points_rows": list(points_order_entries(order=order)) if order.user_id else [],
    }


@login_required
@require_GET
def order_detail(request, number):
    order = _own_order_or_404(request, number)
    return render(
        request,
        "shop/order_detail.html",
        {"order": order, "payment_methods": payment_methods(), **order_after_payment_context(order)},
    )


@login_required
@require_POST
def order_receipt_confirm(request, number):
    order = _own_order_or_404(request, number)
    try:
        order_confirm_receipt(order=order, by=request.user, note="confirmed by the shopper")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已确认收货。如需退货，请在 7 天内申请。"))
    return redirect(order.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def aftersale_new(request, number):
    order = _own_order_or_404(request, number)
    kinds = aftersale_kinds_allowed(order)
    if not kinds:
        messages.error(request, _("这个订单现在不能申请售后。"))
        return redirect(order.get_absolute_url())
    error, values = None, {}
    if request.method == "POST":
        values = request.POST
        lines = [
            (line.pk, values.get(f"qty_{line.pk}", "").strip())
            for line in order.lines.all()
            if values.get(f"qty_{line.pk}", "").strip() not in ("", "0")
        ]
        try:
            after_sale = aftersale_request(
                order=order,
                user=request.user,
                kind=values.get("kind", ""),
                lines=lines,
                reason=values.get("reason", ""),
                photos=request.FILES.getlist("photos"),
            )
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(
                request, _("售后申请 %(number)s 已提交，我们会尽快处理。") % {"number": after_sale.number}
            )
            return redirect(order.get_absolute_url())
    held = aftersale_open_quantities(order)
    line_rows = [
        (
            line,
            max(line.quantity - line.refunded_quantity - held.get(line.pk, 0), 0),
            values.get(f"qty_{line.pk}", ""),
        )
        for line in order.lines.all()
    ]
    kind_labels = dict(AfterSale.Kind.choices)
    return render(
        request,
        "shop/aftersale_form.html",
        {
            "order": order,
            "kinds": [(kind, kind_labels[kind]) for kind in kinds],
            "error": error,
            "values": values,
            "max_photos": MAX_PHOTOS,
            "line_rows": line_rows,
        },
        status=400 if error else 200,
    )
