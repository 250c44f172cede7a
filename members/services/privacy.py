"""Privacy (PIPL/GDPR): a member's data export, account deletion and the personalisation switch."""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from core.locks import lock_row
from members.models import Address, Coupon, Favourite, PointsEntry, Profile
from members.selectors import account_deletion_blockers

logger = logging.getLogger(__name__)

ANONYMISED = {
    "recipient_name": "已注销",
    "phone": "",
    "province": "-",
    "city": "-",
    "district": "",
    "address_line": "已注销用户",
    "postcode": "",
    "note": "",
}


def _iso(value):
    return value.isoformat() if value else None


def member_data_export(*, user) -> dict:
    """Everything we hold about `user`, as JSON-ready data."""
    from shop.models import Event, Order, Review

    profile = Profile.objects.filter(user=user).first()
    return {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "email": user.email,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "profile": profile
        and {
            "display_name": profile.display_name,
            "gender": profile.gender,
            "birth_date": _iso(profile.birth_date),
            "phone": profile.phone,
            "avatar": profile.avatar.name if profile.avatar else "",
            "personalization_enabled": profile.personalization_enabled,
        },
        "addresses": list(
            Address.objects.filter(user=user).values(
                "recipient_name",
                "phone",
                "province",
                "city",
                "district",
                "address_line",
                "postcode",
                "is_default",
            )
        ),
        "favourites": [
            {"product": f.product.name, "saved_at": _iso(f.created_at)}
            for f in Favourite.objects.filter(user=user).select_related("product")
        ],
        "points": [
            {
                "reason": e.reason,
                "available_delta": e.available_delta,
                "pending_delta": e.pending_delta,
                "order": e.order.number if e.order_id else None,
                "at": _iso(e.created_at),
            }
            for e in PointsEntry.objects.filter(user=user)
            .select_related("order")
            .order_by("created_at", "id")
        ],
        "coupons": [
            {"name": c.template.name, "code": c.code, "status": c.status, "valid_until": _iso(c.valid_until)}
            for c in Coupon.objects.filter(user=user).select_related("template")
        ],
        "orders": [
            {
                "number": o.number,
                "status": o.status,
                "total": str(o.total),
                "created_at": _iso(o.created_at),
                "lines": [
                    {
                        "product": line.product_name,
                        "quantity": line.quantity,
                        "line_total": str(line.line_total),
                    }
                    for line in o.lines.all()
                ],
            }
            for o in Order.objects.filter(user=user).prefetch_related("lines")
        ],
        "reviews": [
            {
                "product": r.product.name,
                "rating": r.rating,
                "title": r.title,
                "body": r.body,
                "at": _iso(r.created_at),
            }
            for r in Review.objects.filter(user=user).select_related("product")
        ],
        "events": [
            {"kind": e.kind, "product_id": e.product_id, "query": e.query, "at": _iso(e.created_at)}
            for e in Event.objects.filter(user=user).order_by("created_at")[:10000]
        ],
    }


def member_account_delete(*, user) -> None:
    """Erase the member: personal data and behaviour go; orders stay, anonymised, for the accounts."""
    from shop.models import Event, Order, Product
    from shop.services.reviews import product_rating_recompute

    user_id = user.pk
    with transaction.atomic():
        # An open order still needs its address and its member (delivery, refunds, pending points).
        lock_row(get_user_model()._default_manager.all(), user.pk)
        blockers = account_deletion_blockers(user)
        if blockers:
            raise DomainError(blockers[0], code="account_has_open_orders")
        Order.objects.filter(user=user).update(user=None, **ANONYMISED)
        Event.objects.filter(user=user).delete()
        # Ledger rows point at orders with PROTECT; they go with the member (points lapse).
        PointsEntry.objects.filter(user=user).delete()
        reviewed = list(Product.objects.filter(reviews__user=user).order_by("pk"))
        user.delete()  # cascades: profile, addresses, favourites, coupons, points account, emails, reviews
        # Their reviews are gone, so the averages shown on product pages must no longer count them.
        for product in reviewed:
            product_rating_recompute(product=product)
    logger.info("member account deleted id=%s", user_id)


def personalization_set(*, user, enabled: bool) -> Profile:
    from members.services.accounts import profile_update

    return profile_update(user=user, personalization_enabled=bool(enabled))
