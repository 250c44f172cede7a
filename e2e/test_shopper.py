"""A new shopper's whole first visit, in the browser: from the home page to a paid, reviewed order."""

import re

import pytest
from django.contrib.auth import get_user_model

from e2e import seed
from e2e.conftest import confirmation_link
from shop.models import Order, Review

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADDRESS = {
    "recipient_name": "王小明",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_line": "文三路 100 号 3 幢 201 室",
    "postcode": "310012",
}


def _submit(form):
    form.locator("[type=submit]").last.click()


def _home_recommendations(tab):
    tab.goto("/")
    return tab.page.locator("#rec-home .product-card-name").all_inner_texts()


def test_guest_browses_signs_up_checks_out_pays_and_reviews(tab, mail_outbox, viewport):
    # given a small catalogue and a public coupon code
    products = seed.catalogue()
    seed.coupon_template(code="WELCOME10", name="欢迎券")
    seed.recommender_run(products)
    page = tab.page
    email = f"shopper-{viewport['width']}@example.com"

    # the home page shows products, and (to a guest) the popular list as recommendations
    guest_recommendations = _home_recommendations(tab)
    assert guest_recommendations[:2] == ["便携蓝牙音箱", "降噪蓝牙耳机"]
    assert page.locator("a[href='/p/longjing/']").count() >= 1

    # searching in Chinese finds the tea, not the headphones
    page.fill("#site-search", "龙井")
    page.locator("form.search-box [type=submit]").click()
    page.wait_for_url(re.compile(r"/search/\?q="))
    tab.assert_clean()
    assert page.locator("a[href='/p/longjing/']").count() >= 1
    assert page.locator("a[href='/p/anc-earbuds/']").count() == 0

    # a category, filtered by price, keeps only what matches
    tab.goto("/c/tea/")
    filters = page.locator("details.filter-details")
    if not filters.evaluate("details => details.open"):  # collapsed on phones
        filters.locator("summary").click()
    page.fill("input[name=min_price]", "80")
    page.locator("form.filters [type=submit]").click()
    page.wait_for_url(re.compile(r"min_price=80"))
    tab.assert_clean()
    assert page.locator("a[href='/p/longjing/']").count() >= 1
    assert page.locator("a[href='/p/tieguanyin/']").count() == 0

    # the product page, and into the cart as a guest
    page.locator("a[href='/p/longjing/']").first.click()
    page.wait_for_url("**/p/longjing/")
    assert page.locator("h1").inner_text() == "西湖龙井绿茶"
    page.fill("input[name=quantity]", "2")
    page.get_by_role("button", name="加入购物车").click()
    page.wait_for_load_state()
    tab.assert_clean()
    assert page.locator("[data-cart-count]").inner_text().strip() == "2"

    # checking out asks a guest to log in; they sign up instead
    tab.goto("/cart/")
    page.get_by_role("link", name="去结算").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    tab.goto("/accounts/signup/?next=/checkout/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", seed.PASSWORD)
    page.fill("input[name=password2]", seed.PASSWORD)
    _submit(page.locator("form:has(input[name=password2])"))
    page.wait_for_load_state()
    tab.assert_clean()
    assert not get_user_model().objects.get(email=email).emailaddress_set.get().verified

    # the emailed link verifies the address and signs them in
    tab.goto(confirmation_link(mail_outbox, email))
    _submit(page.locator("main form"))
    page.wait_for_load_state()
    tab.assert_clean()
    user = get_user_model().objects.get(email=email)
    assert user.emailaddress_set.get().verified

    # the guest cart was kept
    tab.goto("/cart/")
    assert page.locator("a.line-product[href='/p/longjing/']").count() == 1
    assert page.locator("input[name=quantity]").first.input_value() == "2"

    # checkout with the coupon and points, then pay in the sandbox
    tab.goto("/checkout/")
    for name, value in ADDRESS.items():
        page.fill(f"input[name={name}]", value)
    page.fill("input[name=coupon_code]", "WELCOME10")
    page.fill("input[name=points]", "100")
    page.get_by_role("button", name="提交订单并付款").click()
    page.wait_for_url(re.compile(r"/pay/sandbox/"))
    tab.assert_clean()
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_url(re.compile(r"/orders/[^/]+/"))
    tab.assert_clean()

    order = Order.objects.get(user=user)
    assert order.status == Order.Status.PAID
    assert order.coupon_discount > 0 and order.points_used == 100
    assert order.subtotal == products["longjing"].price * 2

    # the order page shows it paid
    tab.goto(order.get_absolute_url())
    assert order.number in page.content()
    assert "已付款" in page.locator("main").inner_text()

    # the order's points wait as pending in the member centre
    tab.goto("/member/points/")
    balance = page.locator(".member-balance").inner_text()
    pending = user.points_account.pending
    assert pending > 0
    assert re.search(rf"待入账\s*{pending}\b", balance), balance

    # a review on the product page
    tab.goto("/p/longjing/")
    page.locator("input[name=rating][value='5']").check()
    page.fill("input[name=title]", "回甘很好")
    page.fill("textarea[name=body]", "包装仔细，茶香浓郁。")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_load_state()
    tab.assert_clean()
    assert Review.objects.filter(user=user, product=products["longjing"], rating=5).exists()
    assert "回甘很好" in page.locator("#reviews").inner_text()

    # the home page now recommends for this member: teas like the one bought come first
    member_recommendations = _home_recommendations(tab)
    assert member_recommendations != guest_recommendations
    assert set(member_recommendations[:2]) == {"云南普洱熟茶", "安溪铁观音"}
