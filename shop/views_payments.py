"""Pages and endpoints of the real payment providers: go to the cashier, the provider's notify, the return."""

import logging

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.http import client_ip
from shop.models import Payment
from shop.payments import NotifyRequest, provider_get
from shop.services.payments import payment_notify_apply

logger = logging.getLogger(__name__)
MOBILE_MARKERS = ("Mobile", "Android", "iPhone", "iPad", "MicroMessenger")


def _absolute(request, path) -> str:
    origin = settings.PAYMENT_PUBLIC_ORIGIN.rstrip("/")
    return f"{origin}{path}" if origin else request.build_absolute_uri(path)


def _own_payment_or_404(request, provider_name, reference) -> Payment:
    payment = (
        Payment.objects.select_related("order")
        .filter(reference=str(reference)[:64], provider=provider_name, order__user=request.user)
        .first()
    )
    if payment is None:
        raise Http404(_("支付不存在。"))
    return payment


@login_required
@require_GET
def payment_go(request, provider, reference):
    """To the provider's cashier: Alipay's page (or its mobile page), WeChat's H5 page or a Native QR code."""
    try:
        chosen = provider_get(provider)
    except DomainError:
        raise Http404(_("支付不存在。")) from None
    if not hasattr(chosen, "checkout"):
        raise Http404(_("支付不存在。"))  # the sandbox has its own page
    payment = _own_payment_or_404(request, chosen.name, reference)
    order = payment.order
    if payment.status != Payment.Status.PENDING or not order.is_payable:
        return redirect(order.get_absolute_url())
    mobile = request.GET.get("device") == "mobile" or any(
        marker in request.headers.get("User-Agent", "") for marker in MOBILE_MARKERS
    )
    try:
        checkout = chosen.checkout(
            payment,
            mobile=mobile,
            client_ip=client_ip(request),
            notify_url=_absolute(request, reverse("shop:payment_notify", kwargs={"provider": chosen.name})),
            return_url=_absolute(
                request,
                reverse(
                    "shop:payment_return", kwargs={"provider": chosen.name, "reference": payment.reference}
                ),
            ),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(order.get_absolute_url())
    if checkout.redirect_url:
        return redirect(checkout.redirect_url)
    qr_svg = segno.make(checkout.qr_code, error="m").svg_inline(scale=6, title=_("微信扫码支付"))
    return render(
        request,
        "shop/payment_qr.html",
        {"payment": payment, "order": order, "provider": chosen, "qr_svg": qr_svg},
    )


@login_required
@require_GET
def payment_return(request, provider, reference):
    """Where the provider sends the shopper back: the notify, not this visit, is what settles the payment."""
    payment = _own_payment_or_404(request, provider, reference)
    if payment.status == Payment.Status.SUCCEEDED:
        return redirect("shop:order_paid", number=payment.order.number)
    if payment.status == Payment.Status.PENDING:
        messages.info(request, _("支付结果确认中，请稍后刷新订单页。"))
    return redirect(payment.order.get_absolute_url())


def _acknowledge(provider, ok: bool, message: str = ""):
    """The answer each provider expects: Alipay reads the body, WeChat the status code."""
    if provider.name == "alipay":
        body = provider.notify_success_body if ok else provider.notify_failure_body
        return HttpResponse(body, content_type="text/plain; charset=utf-8", status=200 if ok else 400)
    if ok:
        return HttpResponse(status=204)
    return JsonResponse(
        {"code": "FAIL", "message": message}, status=400, json_dumps_params={"ensure_ascii": False}
    )


@csrf_exempt  # the provider posts here; its signature is what authenticates the call
@require_POST
def payment_notify(request, provider):
    """A provider's asynchronous notify: verified, applied once, answered the way that provider expects."""
    try:
        chosen = provider_get(provider)
    except DomainError:
        raise Http404(_("支付不存在。")) from None
    if chosen.name == "sandbox":
        raise Http404(_("支付不存在。"))  # the sandbox posts to its own callback
    data = (
        request.POST
        if chosen.name == "alipay"
        else NotifyRequest(body=request.body, headers=dict(request.headers))
    )
    try:
        payment_notify_apply(provider_name=chosen.name, data=data)
    except DomainError as error:
        if error.code == "not_final":
            return _acknowledge(chosen, True)  # news of a state we do not act on
        logger.warning("%s notify refused: %s (%s)", chosen.name, error.code, error.message)
        return _acknowledge(chosen, False, str(error.message))
    return _acknowledge(chosen, True)
