"""Guests' whole-page cache: every change of what a page shows reaches the next guest; nothing personal is shared."""

import re
from decimal import Decimal

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from config.pagecache import CSRF_PLACEHOLDER, HEADER
from shop.models import Event, Product, Review
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place
from shop.services.reviews import review_approve
from shop.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ReviewFactory,
    StaffFactory,
    UserFactory,
    bought,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
ADDRESS = {
    "recipient_name": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_line": "文三路 1 号",
    "postcode": "310000",
}


@pytest.fixture
def product():
    return ProductFactory(price=Decimal("123.45"), stock=20, name="缓存测试商品")


@pytest.fixture
def staff():
    client = Client()
    client.force_login(StaffFactory())
    return client


def _guest_get(url, client=None):
    response = (client or Client()).get(url)
    assert response.status_code == 200
    return response


def _warm(url):
    """The page is in the cache: a first guest renders it, a second is served the copy."""
    _guest_get(url)
    response = _guest_get(url)
    assert response[HEADER] == "hit"
    return response


def _admin_post(client, url, **changes):
    """POST the admin change form at `url` as it stands, with `changes` applied to the main form."""
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += list(formset.forms)
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or hasattr(value, "url"):
                continue  # empty, or a stored file (left as it is)
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = (
                [str(v) for v in value] if isinstance(value, list | tuple) else value
            )
    for name, value in changes.items():
        data[name] = value
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


# --- Each change reaches the next guest ------------------------------------------------------


def test_price_changed_in_the_admin_shows_on_the_next_guest_view(product, staff):
    # given the product and its category pages cached for guests at ¥123.45
    product_url, category_url = product.get_absolute_url(), product.category.get_absolute_url()
    assert "123.45" in _warm(product_url).content.decode()
    assert "123.45" in _warm(category_url).content.decode()
    # when staff change the price in the admin
    _admin_post(staff, reverse("admin:shop_product_change", args=[product.pk]), price="99.80")
    # then the next guest sees the new price on both pages
    for url in (product_url, category_url):
        page = _guest_get(url).content.decode()
        assert "99.80" in page and "123.45" not in page


def test_checkout_taking_the_last_unit_shows_out_of_stock(product):
    # given a product with one unit left, its page cached for guests
    Product.objects.filter(pk=product.pk).update(stock=1)
    product.refresh_from_db()
    url = product.get_absolute_url()
    _guest_get(url)  # a first view before the change is cached…
    assert "加入购物车" in _warm(url).content.decode()
    # when a member's checkout takes the last unit
    member = UserFactory()
    cart = cart_get_or_create(user=member)
    cart_add(cart=cart, product_id=product.pk, quantity=1)
    order_place(user=member, cart=cart, address=ADDRESS, shipping_method="standard", idempotency_key="k1")
    # then the next guest sees it out of stock, with nothing to add to a cart
    page = _guest_get(url).content.decode()
    assert "暂时缺货" in page and "加入购物车" not in page


def test_new_image_shows_on_the_next_guest_view(product):
    url = product.get_absolute_url()
    _warm(url)
    image = ProductImageFactory(product=product)
    assert image.image.url in _guest_get(url).content.decode()


def test_approved_review_shows_on_the_next_guest_view(product):
    # given a pending review and the product page cached without it
    author = UserFactory()
    bought(author, product)
    review = ReviewFactory(product=product, user=author, title="缓存之后的好评", status=Review.Status.PENDING)
    url = product.get_absolute_url()
    assert "缓存之后的好评" not in _warm(url).content.decode()
    # when staff approve it
    review_approve(review=review)
    # then the next guest sees it
    assert "缓存之后的好评" in _guest_get(url).content.decode()


def test_category_renamed_in_the_admin_shows_on_every_cached_page(product, staff):
    category = product.category
    pages = [product.get_absolute_url(), category.get_absolute_url(), reverse("shop:home")]
    for url in pages:
        _warm(url)
    _admin_post(staff, reverse("admin:shop_category_change", args=[category.pk]), name="改名后的分类")
    for url in pages[:2]:  # both show the category's name (breadcrumb, heading)
        assert "改名后的分类" in _guest_get(url).content.decode()
    assert _guest_get(pages[2])[HEADER] == "miss"


def test_bulk_deactivation_in_the_admin_retires_the_cached_page(product, staff):
    url = product.get_absolute_url()
    _warm(url)
    staff.post(
        reverse("admin:shop_product_changelist"), {"action": "deactivate", "_selected_action": [product.pk]}
    )
    assert Client().get(url).status_code == 404


def test_promotion_created_by_staff_shows_on_the_next_guest_view(product):
    from members.models import Promotion

    url = product.get_absolute_url()
    assert "promotion-tags" not in _warm(url).content.decode()
    Promotion.objects.create(name="缓存满减", threshold=Decimal("300"), amount=Decimal("30"), is_active=True)
    assert "promotion-tags" in _guest_get(url).content.decode()


def test_member_price_set_on_a_tier_shows_on_the_next_guest_view(product):
    from members.tests.factories import TierFactory

    tier = TierFactory(name="缓存金卡")
    url = product.get_absolute_url()
    assert "缓存金卡" not in _warm(url).content.decode()
    tier.member_price_percent = 90
    tier.save()
    assert "111.10" in _guest_get(url).content.decode()  # 90% of ¥123.45, rounded down


# --- Nothing personal is shared ----------------------------------------------------------------


def test_a_guest_never_sees_another_guests_cart_count_or_csrf_token(product):
    # given guest A with two units in the cart
    a = Client(enforce_csrf_checks=True)
    url = product.get_absolute_url()
    a_token = TOKEN_RE.search(_guest_get(url, a).content.decode()).group(1)
    added = a.post(
        reverse("shop:cart_add"), {"csrfmiddlewaretoken": a_token, "product_id": product.pk, "quantity": 2}
    )
    assert added.status_code == 302
    # when A and then guest B (no cart) open the product page twice each
    a_pages = [_guest_get(url, a) for _ in range(2)]
    b = Client(enforce_csrf_checks=True)
    b_pages = [_guest_get(url, b) for _ in range(2)]
    # then A's pages are rendered for A, with A's count; B's come from the cache with a count of 0
    assert {p[HEADER] for p in a_pages} == {"bypass"}
    assert all("data-cart-count>2<" in p.content.decode() for p in a_pages)
    assert b_pages[-1][HEADER] == "hit"  # the copy A's first view left (A had no cart then)
    assert all("data-cart-count>0<" in p.content.decode() for p in b_pages)
    # and every token B receives is B's own (it unmasks to B's cookie), and works for B
    b_secret = b.cookies["csrftoken"].value
    a_secret = a.cookies["csrftoken"].value
    for page in b_pages:
        tokens = TOKEN_RE.findall(page.content.decode())
        assert tokens and CSRF_PLACEHOLDER not in page.content.decode()
        assert {_unmask_cipher_token(t) for t in tokens} == {b_secret} != {a_secret}
    token = TOKEN_RE.search(b_pages[1].content.decode()).group(1)
    response = b.post(
        reverse("shop:cart_add"), {"csrfmiddlewaretoken": token, "product_id": product.pk, "quantity": 1}
    )
    assert response.status_code == 302


def test_a_cached_copy_holds_no_token_and_a_guest_without_a_csrf_cookie_gets_one(product, monkeypatch):
    from config import pagecache

    stored = []
    real_set = pagecache._cache_set
    monkeypatch.setattr(
        pagecache, "_cache_set", lambda key, entry: stored.append(entry) or real_set(key, entry)
    )
    url = product.get_absolute_url()
    _guest_get(url)
    (entry,) = stored
    assert CSRF_PLACEHOLDER in entry["content"] and not TOKEN_RE.search(entry["content"])
    fresh = Client()
    response = _guest_get(url, fresh)
    assert response[HEADER] == "hit"
    assert _unmask_cipher_token(TOKEN_RE.search(response.content.decode()).group(1)) == (
        fresh.cookies["csrftoken"].value
    )


def test_a_member_never_gets_a_guests_cached_page(product):
    url = product.get_absolute_url()
    _warm(url)
    member = Client()
    member.force_login(UserFactory())
    response = _guest_get(url, member)
    assert response[HEADER] == "bypass"
    assert "会员中心" in response.content.decode()


def test_a_guest_with_messages_gets_the_page_rendered_for_them(product):
    # given a guest whose add to cart failed (a message waits), and the page cached for others
    url = product.get_absolute_url()
    _warm(url)
    guest = Client()
    guest.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 999})
    # when they open the page
    response = guest.get(url)
    # then it is rendered for them, message included, and the cached copy never holds it
    assert response[HEADER] == "bypass" and 'class="alert' in response.content.decode()
    assert 'class="alert' not in _guest_get(url).content.decode()


def test_pages_vary_on_cookie_and_are_keyed_by_language(product):
    url = product.get_absolute_url()
    zh = _warm(url)
    english = Client()
    english.cookies["django_language"] = "en"
    en = english.get(url)
    assert (
        en[HEADER] == "miss"
        and 'lang="en"' in en.content.decode()
        and 'lang="zh-hans"' in zh.content.decode()
    )
    assert "Cookie" in zh["Vary"] and "Cookie" in en["Vary"]


def test_query_strings_are_normalised(product):
    base = product.category.get_absolute_url()
    _guest_get(f"{base}?sort=price&brand=")
    assert _guest_get(f"{base}?brand=&sort=price")[HEADER] == "hit"
    assert _guest_get(f"{base}?sort=-price")[HEADER] == "miss"


def test_guest_with_history_gets_their_own_home_list(product):
    # given a guest who viewed a product (their session now has history: a personal home list)
    home = reverse("shop:home")
    _warm(home)
    guest = Client()
    _guest_get(product.get_absolute_url(), guest)
    from recommender.serving import guest_blocks_forget
    from shop.visitor import SESSION_VISITOR_KEY

    guest_blocks_forget(guest.session[SESSION_VISITOR_KEY])
    # then their home page is rendered for them; product pages are still shared
    assert _guest_get(home, guest)[HEADER] == "bypass"
    assert _guest_get(product.get_absolute_url(), guest)[HEADER] == "hit"


# --- What the page records is recorded for every visitor served a copy -------------------------


def test_a_cached_product_page_still_records_each_guests_view(product):
    url = product.get_absolute_url()
    guests = [Client() for _ in range(3)]
    for guest in guests:
        _guest_get(url, guest)
    views = Event.objects.filter(kind=Event.Kind.VIEW, product=product)
    assert views.count() == 3
    assert len({e.session_key for e in views}) == 3 and all(e.session_key for e in views)


def test_a_cached_search_page_still_records_each_search(product):
    url = f"{reverse('shop:search')}?q=缓存测试"
    _warm(url)
    assert Event.objects.filter(kind=Event.Kind.SEARCH, query="缓存测试").count() == 2


# --- Failures ------------------------------------------------------------------------------------


def test_pages_work_with_redis_down(product, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:6390/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    category = CategoryFactory()
    for url in (product.get_absolute_url(), category.get_absolute_url(), reverse("shop:home")):
        for _ in range(2):
            response = Client().get(url)
            assert response.status_code == 200 and response[HEADER] == "bypass"
