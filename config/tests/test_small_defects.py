"""Issue 12's smaller defects, each as a shopper, a member or an API client would meet it."""

import secrets

import pytest
from django.conf import settings
from django.urls import reverse

from config.tests.test_settings import _manage
from shop.tests.factories import OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/orders/20260101%00123/", "/p/a%00b/", "/api/v1/orders/1%002/"])
def test_nul_bytes_in_paths_get_a_400_with_a_reason(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "无效字符" in response.content.decode()


def test_nul_bytes_in_a_query_are_dropped(client):
    response = client.get("/search/?q=a%00b&sort=price%00")
    assert response.status_code == 200
    assert response.context["search_query"] == "ab"


def test_nul_bytes_in_a_form_field_get_a_400(client):
    member = UserFactory()
    client.force_login(member)
    response = client.post("/cart/add/", {"product_id": "1\x00", "quantity": "1"})
    assert response.status_code == 400


def test_a_member_opening_the_admin_is_told_it_is_for_staff_not_looped(client):
    member = UserFactory()
    client.force_login(member)
    response = client.get("/admin/", follow=True)
    assert len(response.redirect_chain) <= 2
    assert response.status_code == 403
    assert "员工" in response.content.decode()


def test_unknown_api_paths_answer_the_documented_error_body(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_the_404_page_is_the_shops_in_chinese_and_english(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body and "优选商城" in body
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get("/no-such-page/").content.decode()
    assert "Page not found" in body


def test_the_500_page_is_the_shops(client, settings):
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("zh-hans"):
        body = render_to_string("500.html")
    assert "出错了" in body and "<html" in body


def test_the_language_cookie_is_samesite_and_secure_in_production(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["samesite"] == "Lax"
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.LANGUAGE_COOKIE_SECURE)",
        SECRET_KEY=secrets.token_urlsafe(64),
    )
    assert result.stdout.strip().endswith("True"), result.stderr


def test_order_number_with_odd_characters_is_a_404_not_a_500(client):
    member = UserFactory()
    OrderFactory(user=member)
    client.force_login(member)
    assert client.get("/orders/%E2%80%AE123/").status_code == 404


def test_a_right_to_left_override_in_a_review_title_is_removed():
    from shop.services.reviews import review_text_clean

    assert review_text_clean("好\u202e评") == "好评"
    assert review_text_clean("a\u2066b\u2069c\u200fd") == "abcd"


def test_click_statistics_refuse_unknown_blocks_and_models(client):
    product = ProductFactory()
    url = reverse("recommender:click", kwargs={"block": "evil", "model": "x" * 40, "product_id": product.pk})
    response = client.get(url)
    assert response.status_code in (302, 404)
    from shop.models import Event

    assert not Event.objects.filter(context__block="evil").exists()


@pytest.mark.parametrize("field,value", [("phone", "abc"), ("phone", "12"), ("postcode", "12")])
def test_the_api_refuses_addresses_the_site_refuses(api, field, value):
    address = {
        "recipient_name": "张三",
        "phone": "13800138000",
        "province": "上海",
        "city": "上海",
        "district": "",
        "address_line": "人民路 1 号",
        "postcode": "200000",
    }
    address[field] = value
    response = api.post("/api/v1/me/addresses/", address, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_the_site_and_the_checkout_service_share_the_phone_rule():
    from core.addresses import phone_normalise

    assert phone_normalise("138-0013-8000") == "13800138000"
    assert phone_normalise("+86 138 0013 8000") == "13800138000"
    assert phone_normalise("abc") is None and phone_normalise("12") is None
