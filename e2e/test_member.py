"""A member looks after their account in the browser: favourites, coupons, privacy, export, deletion."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from e2e import seed
from members.models import Coupon, Favourite
from recommender.models import MemberRecommendation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(tab, email, password=seed.PASSWORD, next_path="/"):
    tab.goto(f"/accounts/login/?next={next_path}")
    tab.page.fill("input[name=login]", email)
    tab.page.fill("input[name=password]", password)
    tab.page.locator("main form [type=submit]").last.click()
    tab.page.wait_for_url(re.compile(re.escape(next_path) + r"$"))
    tab.assert_clean()


def _home_recommendations(tab):
    tab.goto("/")
    return tab.page.locator("#rec-home .product-card-name").all_inner_texts()


def test_member_saves_claims_opts_out_exports_and_deletes(tab, viewport):
    # given a member with a personal recommendation list and a coupon to claim
    products = seed.catalogue()
    email = f"member-{viewport['width']}@example.com"
    user = seed.member(email)
    run = seed.recommender_run(products)
    MemberRecommendation.objects.bulk_create(
        MemberRecommendation(
            run=run,
            user=user,
            product=products[slug],
            model="itemknn",
            score=1 - rank / 10,
            rank=rank + 1,
            reason="similar_to_seen",
        )
        for rank, slug in enumerate(["puer", "longjing"])
    )
    template = seed.coupon_template(name="周末茶饮券", is_claimable=True, total_quantity=100)
    page = tab.page
    page.on("dialog", lambda dialog: dialog.accept())  # "are you sure?" on account deletion

    log_in(tab, email)

    # personalised lists come first on the home page
    assert _home_recommendations(tab)[:2] == ["云南普洱熟茶", "西湖龙井绿茶"]

    # save a product, see it among the favourites
    tab.goto("/p/speaker/")
    page.locator(".favourite-slot button.favourite-button").click()
    page.wait_for_load_state()
    tab.assert_clean()
    assert "已收藏" in page.locator(".favourite-slot").inner_text()
    tab.goto("/member/favourites/")
    assert page.locator(".product-card-name").all_inner_texts() == ["便携蓝牙音箱"]
    assert Favourite.objects.filter(user=user, product=products["speaker"]).exists()

    # claim a coupon in the claim centre; it is now held and cannot be claimed twice
    tab.goto("/member/coupons/")
    page.locator("#claim li", has_text="周末茶饮券").get_by_role("button", name="领取").click()
    page.wait_for_load_state()
    tab.assert_clean()
    coupon = Coupon.objects.get(user=user, template=template)
    assert coupon.code in page.locator("main").inner_text()
    assert page.locator("#claim li", has_text="周末茶饮券").get_by_text("已领取").count() == 1

    # switch personalisation off: the home page shows the popular list instead
    tab.goto("/member/privacy/")
    page.locator("input[name=personalization_enabled]").uncheck()
    page.get_by_role("button", name="保存设置").click()
    page.wait_for_load_state()
    tab.assert_clean()
    assert _home_recommendations(tab)[:2] == ["便携蓝牙音箱", "降噪蓝牙耳机"]

    # download my data
    tab.goto("/member/privacy/")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 JSON").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert email in json.dumps(data, ensure_ascii=False)
    assert "周末茶饮券" in json.dumps(data, ensure_ascii=False) or coupon.code in json.dumps(data)

    # delete the account: asked for the password again, then to type 注销
    page.get_by_role("link", name="注销账户").click()
    page.wait_for_load_state()
    if page.locator("input[name=password]").count():
        page.fill("input[name=password]", seed.PASSWORD)
        page.locator("main form [type=submit]").last.click()
        page.wait_for_url(re.compile(r"/member/privacy/delete/"))
    page.fill("input[name=confirm]", "注销")
    page.get_by_role("button", name="永久注销").click()
    page.wait_for_url(re.compile(r"/$"))
    tab.assert_clean()
    assert page.locator("header a[href^='/accounts/login/']").count() == 1  # signed out
    assert not get_user_model().objects.filter(email=email, is_active=True).exists()
    assert not Favourite.objects.filter(user=user).exists()

    # and the old password no longer signs in
    tab.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", seed.PASSWORD)
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()
    assert re.search(r"/accounts/login/", page.url)
