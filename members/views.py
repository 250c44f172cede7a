"""Member centre pages: thin views over members.selectors and members.services."""

import json
from datetime import date

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.addresses import ADDRESS_FIELDS
from core.errors import DomainError
from core.http import safe_next_url
from members import selectors
from members.forms import AccountDeleteForm, AddressForm, PersonalizationForm, ProfileForm
from members.models import Address
from members.services import accounts, checkin, coupons, favourites, mall, privacy
from recommender.surfaces import recommendation_blocks_for_member_centre

COUPON_STATES = {
    "available": gettext_lazy("可使用"),
    "used": gettext_lazy("已使用"),
    "expired": gettext_lazy("已过期"),
}


@login_required
def centre(request):
    account = selectors.points_account_for(request.user)
    expiring_points, expiring_at = selectors.points_expiring_soon(request.user)
    return render(
        request,
        "members/centre.html",
        {
            "section": "centre",
            "account": account,
            "progress": selectors.tier_progress(account),
            "expiring_points": expiring_points,
            "expiring_at": expiring_at,
            "expiring_coupons": selectors.coupons_expiring_soon(request.user)[:5],
            "recent_orders": selectors.recent_orders(request.user),
            "profile": accounts.profile_for(request.user),
            "rec_blocks": recommendation_blocks_for_member_centre(request),
        },
    )


@login_required
def points(request):
    page = Paginator(selectors.points_history(request.user), 20).get_page(request.GET.get("page"))
    account = selectors.points_account_for(request.user)
    expiring_points, expiring_at = selectors.points_expiring_soon(request.user)
    return render(
        request,
        "members/points.html",
        {
            "section": "points",
            "page": page,
            "account": account,
            "expiring_points": expiring_points,
            "expiring_at": expiring_at,
            "expiry_schedule": selectors.points_expiry_schedule(request.user),
        },
    )


@login_required
def checkin_page(request):
    if request.method == "POST":
        try:
            if request.POST.get("makeup"):
                day = date.fromisoformat(request.POST["makeup"])
                checkin.checkin_makeup(user=request.user, day=day)
                messages.success(request, _("补签成功：%(day)s") % {"day": day.isoformat()})
            else:
                done = checkin.checkin_do(user=request.user)
                messages.success(
                    request,
                    _("签到成功，连续 %(n)s 天，获得 %(points)s 积分。")
                    % {"n": done.streak, "points": done.points},
                )
        except ValueError:
            messages.error(request, _("日期不对。"))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("members:checkin")
    return render(
        request,
        "members/checkin.html",
        {
            "section": "checkin",
            "status": checkin.checkin_status(user=request.user),
            "account": selectors.points_account_for(request.user),
        },
    )


@login_required
def tier_benefits(request):
    account = selectors.points_account_for(request.user)
    return render(
        request,
        "members/benefits.html",
        {
            "section": "benefits",
            "account": account,
            "progress": selectors.tier_progress(account),
            "rows": selectors.tier_benefits_table(),
        },
    )


@login_required
def points_mall(request):
    if request.method == "POST":
        try:
            exchange = mall.reward_exchange(user=request.user, reward_id=int(request.POST.get("reward", 0)))
        except ValueError:
            messages.error(request, _("没有找到这件兑换商品。"))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("兑换成功：%(name)s，优惠券已放入你的券包。") % {"name": exchange.reward.name},
            )
        return redirect("members:mall")
    return render(
        request,
        "members/mall.html",
        {
            "section": "mall",
            "rewards": mall.rewards_on_offer(),
            "account": selectors.points_account_for(request.user),
        },
    )


@login_required
def coupon_list(request):
    state = request.GET.get("state", "available")
    if state not in COUPON_STATES:
        state = "available"
    return render(
        request,
        "members/coupons.html",
        {
            "section": "coupons",
            "state": state,
            "states": COUPON_STATES,
            "coupons": selectors.coupons_for(request.user, state=state)[:100],
            "claimable": selectors.claimable_templates(request.user),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def coupon_claim(request, template_id):
    try:
        coupon = coupons.coupon_claim(user=request.user, template_id=template_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已领取：%(name)s") % {"name": coupon.template.name})
    return redirect("members:coupons")


@login_required
def favourite_list(request):
    page = Paginator(selectors.favourites_for(request.user), 24).get_page(request.GET.get("page"))
    return render(request, "members/favourites.html", {"section": "favourites", "page": page})


@require_POST
def favourite_toggle(request):
    """Save or unsave a product; JSON for scripts, a redirect back for plain forms."""
    from shop.models import Product

    wants_json = "application/json" in request.headers.get("Accept", "")
    if not request.user.is_authenticated:
        if wants_json:
            return JsonResponse({"error": _("请先登录。")}, status=401)
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(safe_next_url(request, "/"))
    try:
        product_id = int(request.POST.get("product_id", ""))
    except ValueError:
        return HttpResponseBadRequest(_("缺少商品。"))
    product = get_object_or_404(Product, pk=product_id, is_active=True)
    saved = favourites.favourite_toggle(user=request.user, product=product)
    if wants_json:
        return JsonResponse({"saved": saved})
    messages.success(request, _("已收藏") if saved else _("已取消收藏"))
    return redirect(safe_next_url(request, "members:favourites"))


@login_required
def recently_viewed(request):
    return render(
        request,
        "members/recent.html",
        {
            "section": "recent",
            "products": selectors.recently_viewed_products(request.user),
        },
    )


@login_required
def address_list(request):
    return render(
        request,
        "members/addresses.html",
        {
            "section": "addresses",
            "addresses": Address.objects.filter(user=request.user),
        },
    )


@login_required
def address_edit(request, address_id=None):
    address = None
    if address_id is not None:
        address = get_object_or_404(Address, pk=address_id, user=request.user)
    form = AddressForm(
        request.POST or None,
        instance=address,
        initial={"is_default": address.is_default if address else False},
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ADDRESS_FIELDS}
        try:
            accounts.address_save(
                user=request.user, address=address, is_default=form.cleaned_data["is_default"], **data
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("地址已保存。"))
            return redirect(safe_next_url(request, "members:addresses"))
    return render(
        request,
        "members/address_form.html",
        {
            "section": "addresses",
            "form": form,
            "address": address,
            "next": safe_next_url(request, ""),
        },
    )


@login_required
@require_POST
def address_delete(request, address_id):
    get_object_or_404(Address, pk=address_id, user=request.user)
    accounts.address_delete(user=request.user, address_id=address_id)
    messages.success(request, _("地址已删除。"))
    return redirect("members:addresses")


@login_required
@require_POST
def address_default(request, address_id):
    get_object_or_404(Address, pk=address_id, user=request.user)
    accounts.address_set_default(user=request.user, address_id=address_id)
    messages.success(request, _("已设为默认地址。"))
    return redirect("members:addresses")


@login_required
def profile(request):
    current = accounts.profile_for(request.user)
    form = ProfileForm(request.POST or None, request.FILES or None, instance=current)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        accounts.profile_update(user=request.user, **fields)
        messages.success(request, _("资料已保存。"))
        return redirect("members:profile")
    return render(request, "members/profile.html", {"section": "profile", "form": form, "profile": current})


@login_required
def privacy_page(request):
    current = accounts.profile_for(request.user)
    if request.method == "POST":
        form = PersonalizationForm(request.POST)
        if form.is_valid():
            privacy.personalization_set(
                user=request.user, enabled=form.cleaned_data["personalization_enabled"]
            )
            messages.success(
                request,
                _("已开启个性化推荐。")
                if form.cleaned_data["personalization_enabled"]
                else _("已关闭个性化推荐。"),
            )
            return redirect("members:privacy")
    form = PersonalizationForm(initial={"personalization_enabled": current.personalization_enabled})
    return render(
        request,
        "members/privacy.html",
        {
            "section": "privacy",
            "form": form,
            "profile": current,
            "delete_form": AccountDeleteForm(),
        },
    )


@login_required
def data_export(request):
    data = privacy.member_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="my-data-{timezone.localdate():%Y%m%d}.json"'
    return response


@login_required
@reauthentication_required
def account_delete(request):
    form = AccountDeleteForm(request.POST or None)
    blockers = selectors.account_deletion_blockers(request.user)
    if request.method == "POST" and not blockers and form.is_valid():
        user = request.user
        try:
            privacy.member_account_delete(user=user)
        except DomainError as error:  # an order placed since the page was shown
            messages.error(request, error.message)
            return redirect("members:account_delete")
        logout(request)
        messages.success(request, _("你的账户和个人数据已删除。"))
        return redirect("shop:home")
    if request.method == "POST" and not blockers:
        messages.error(request, _("请输入“注销”以确认。"))
    context = {
        "section": "privacy",
        "form": form,
        "blockers": blockers,
        "losses": selectors.account_deletion_losses(request.user),
    }
    return render(
        request, "members/account_delete.html", context, status=409 if blockers and request.POST else 200
    )
