"""Reviews: members who bought a product rate it once (a second time edits); staff moderate."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.locks import lock_row, lock_row_or_none
from shop import signals
from shop.models import ZERO, Event, Order, OrderLine, Product, Review
from shop.selectors import rating_distribution_cache_key
from shop.services.events import event_record

PURCHASED_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.RECEIVED, Order.Status.COMPLETED)


def member_has_bought(*, user, product) -> bool:
    return OrderLine.objects.filter(
        order__user=user, product=product, order__status__in=PURCHASED_STATUSES
    ).exists()


@transaction.atomic
def product_rating_recompute(*, product: Product) -> Product:
    """Set the denormalised average and count from the approved reviews."""
    stats = Review.objects.filter(product=product, status=Review.Status.APPROVED).aggregate(
        avg=Avg("rating"), n=Count("id")
    )
    avg = Decimal(str(stats["avg"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    Product.objects.filter(pk=product.pk).update(
        rating_avg=avg if stats["n"] else ZERO, rating_count=stats["n"]
    )
    product.rating_avg, product.rating_count = (avg if stats["n"] else ZERO), stats["n"]
    cache.delete(rating_distribution_cache_key(product.pk))
    return product


# Bidirectional controls (embeddings, overrides, isolates, marks) let a title reverse or hide the
# text around it on the page; reviews are plain text and never need them.
BIDI_CONTROLS = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None)


def review_text_clean(text: str) -> str:
    """A review's title or body without bidirectional control characters."""
    return (text or "").translate(BIDI_CONTROLS)


@transaction.atomic
def review_submit(*, user, product: Product, rating, title="", body="") -> Review:
    """Create the member's review of a product they bought, or edit the one they already wrote."""
    if not user or not user.is_authenticated:
        raise DomainError(_("请先登录。"), code="login_required")
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise DomainError(_("评分必须是 1 到 5 星。"), code="invalid_rating", field="rating")
    title = review_text_clean(title).strip()[:100]
    body = review_text_clean(body).strip()[:2000]
    if not member_has_bought(user=user, product=product):
        raise DomainError(_("购买过该商品的会员才能评价。"), code="not_purchased")
    review = lock_row_or_none(Review.objects.filter(user=user, product=product))
    newly_approved = False
    premoderated = settings.SHOP_REVIEWS_PREMODERATED
    if review is None:
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    user=user,
                    product=product,
                    rating=rating,
                    title=title,
                    body=body,
                    status=Review.Status.PENDING if premoderated else Review.Status.APPROVED,
                )
        except IntegrityError:  # a double submit created it first
            raise DomainError(_("你已经评价过这件商品。"), code="already_reviewed") from None
        newly_approved = review.status == Review.Status.APPROVED
    else:
        if review.status == Review.Status.REJECTED:
            raise DomainError(_("你的评价未通过审核，不能再修改。"), code="review_rejected")
        changed = (review.rating, review.title, review.body) != (rating, title, body)
        review.rating, review.title, review.body = rating, title, body
        fields = ["rating", "title", "body"]
        if changed:
            review.edited_at = timezone.now()
            fields.append("edited_at")
            if premoderated and review.status == Review.Status.APPROVED:
                # An edited review is read again before it shows (its points stay: it was approved once).
                review.status = Review.Status.PENDING
                fields.append("status")
        review.save(update_fields=fields)
    product_rating_recompute(product=product)
    if newly_approved:
        signals.review_approved.send(sender=Review, review=review)  # the reward commits with it
    event_record(kind=Event.Kind.RATING, user=user, product=product, value=rating)
    return review


def _review_status_set(review: Review, status, *, by=None) -> tuple[Review, bool]:
    """Lock the review and move it to `status`, recording who decided; the rating average follows.
    Returns (review, changed)."""
    review = lock_row(review)
    if review.status == status:
        return review, False
    review.status = status
    review.moderated_by = by if getattr(by, "is_authenticated", False) else None
    review.moderated_at = timezone.now()
    review.save(update_fields=["status", "moderated_by", "moderated_at"])
    product_rating_recompute(product=review.product)
    return review, True


@transaction.atomic
def review_approve(*, review: Review, by=None) -> Review:
    review, changed = _review_status_set(review, Review.Status.APPROVED, by=by)
    if changed:
        signals.review_approved.send(sender=Review, review=review)
    return review


@transaction.atomic
def review_reject(*, review: Review, by=None) -> Review:
    review, changed = _review_status_set(review, Review.Status.REJECTED, by=by)
    if changed:
        signals.review_rejected.send(sender=Review, review=review, by=by)
    return review
