"""Review moderation: optional pre-moderation, who decided, edits read again, points given and taken back."""

import pytest

from members.models import EarningRules, PointsAccount, PointsEntry
from members.services.points import points_entry_write
from shop.models import Review
from shop.services.reviews import review_approve, review_reject, review_submit
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory, bought

pytestmark = pytest.mark.django_db


@pytest.fixture
def review_points():
    rules = EarningRules.current()
    rules.review_points = 20
    rules.save()
    return 20


def _member_with_purchase():
    member, product = UserFactory(), ProductFactory()
    bought(member, product)
    return member, product


def _available(member):
    return PointsAccount.objects.filter(user=member).values_list("available", flat=True).first() or 0


def test_with_pre_moderation_a_review_waits_and_earns_points_on_approval(settings, review_points):
    settings.SHOP_REVIEWS_PREMODERATED = True
    member, product = _member_with_purchase()
    before = _available(member)
    review = review_submit(user=member, product=product, rating=5, title="好", body="很好用")
    assert review.status == Review.Status.PENDING and _available(member) == before
    staff = StaffFactory()
    review_approve(review=review, by=staff)
    review.refresh_from_db()
    assert review.status == Review.Status.APPROVED
    assert review.moderated_by == staff and review.moderated_at is not None
    assert _available(member) == before + review_points


def test_an_edited_review_is_read_again(settings, review_points):
    settings.SHOP_REVIEWS_PREMODERATED = True
    member, product = _member_with_purchase()
    review = review_submit(user=member, product=product, rating=5, title="好")
    review_approve(review=review, by=StaffFactory())
    edited = review_submit(user=member, product=product, rating=1, title="坏了")
    assert edited.status == Review.Status.PENDING and edited.edited_at is not None
    # the same text again is not an edit
    again = review_submit(user=member, product=product, rating=1, title="坏了")
    assert again.edited_at == edited.edited_at


def test_rejection_takes_the_reward_back_once(review_points):
    member, product = _member_with_purchase()
    before = _available(member)
    review = review_submit(user=member, product=product, rating=5, title="刷分")
    assert _available(member) == before + review_points
    staff = StaffFactory()
    review_reject(review=review, by=staff)
    review_reject(review=review, by=staff)
    assert _available(member) == before
    reversal = PointsEntry.objects.get(user=member, reason=PointsEntry.Reason.REVIEW_REVERSAL)
    assert reversal.available_delta == -review_points and reversal.staff == staff


def test_a_spent_reward_is_recorded_as_a_shortfall_not_taken_below_zero(review_points):
    member, product = _member_with_purchase()
    review = review_submit(user=member, product=product, rating=5)
    # the member spends everything they have
    points_entry_write(user=member, reason=PointsEntry.Reason.REDEEM, available_delta=-_available(member))
    review_reject(review=review, by=StaffFactory())
    assert _available(member) == 0
    reversal = PointsEntry.objects.get(user=member, reason=PointsEntry.Reason.REVIEW_REVERSAL)
    assert reversal.available_delta == 0 and "未能扣回" in reversal.note
