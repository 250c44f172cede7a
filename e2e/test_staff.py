"""Staff at work in the admin: a coupon template, a points adjustment with a reason, a retrain."""

import re

import pytest

from e2e import seed
from e2e.test_member import log_in
from members.models import CouponTemplate, PointsAccount, PointsEntry
from recommender.models import TrainingRun
from recommender.tests.factories import behaviour_seed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RETRAIN_TIMEOUT_MS = 90_000


def test_staff_creates_a_coupon_adjusts_points_and_retrains(tab, viewport):
    # given staff, a member with a points account, and behaviour to learn from
    staff = seed.member(f"staff-{viewport['width']}@example.com", superuser=True)
    member = seed.member("points-member@example.com")
    PointsAccount.objects.create(user=member)
    behaviour_seed(members=24, products=18)
    page = tab.page

    # the admin's login is the member login (rate-limited), and leads back to the admin
    tab.goto("/admin/login/?next=/admin/")
    assert "/accounts/login/" in page.url
    log_in(tab, staff.email, next_path="/admin/")
    assert page.locator("#site-name, #header").count() >= 1

    # a coupon template
    tab.goto("/admin/members/coupontemplate/add/")
    page.fill("input[name=name]", "双十一满200减30")
    page.fill("input[name=amount]", "30")
    page.fill("input[name=min_spend]", "200")
    page.fill("input[name=code]", "DOUBLE11")
    page.check("input[name=is_claimable]")
    page.locator("input[name=_save]").click()
    page.wait_for_url(re.compile(r"/admin/members/coupontemplate/$"))
    tab.assert_clean()
    template = CouponTemplate.objects.get(code="DOUBLE11")
    assert (template.amount, template.min_spend, template.is_claimable) == (30, 200, True)

    # adjust the member's points, giving a reason
    tab.goto(f"/admin/members/pointsaccount/adjust/{member.pk}/")
    page.fill("input[name=delta]", "50")
    page.fill("input[name=note]", "物流延误补偿")
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/members/pointsaccount/$"))
    tab.assert_clean()
    entry = PointsEntry.objects.get(user=member, reason=PointsEntry.Reason.STAFF)
    assert (entry.available_delta, entry.note, entry.staff_id) == (50, "物流延误补偿", staff.pk)
    assert PointsAccount.objects.get(user=member).available == 50

    # retrain now; the run and its metrics show on the dashboard and the run's page
    tab.goto("/admin/recommender/trainingrun/dashboard/")
    # tests run Celery eagerly: the whole training happens inside this request, so allow it time
    page.get_by_role("button", name="立即重新训练").click(timeout=RETRAIN_TIMEOUT_MS)
    page.wait_for_url(re.compile(r"/admin/recommender/trainingrun/dashboard/$"), timeout=RETRAIN_TIMEOUT_MS)
    tab.assert_clean()
    run = TrainingRun.objects.order_by("-pk").first()
    assert run is not None and run.status == TrainingRun.Status.SUCCEEDED, run and run.error
    assert run.is_active and run.metrics
    row = page.locator(f"a[href='/admin/recommender/trainingrun/{run.pk}/change/']").first
    assert row.count() == 1
    row.click()
    page.wait_for_load_state()
    tab.assert_clean()
    text = page.locator("#content").inner_text()
    assert "precision@10" in text and run.serving_model in text
