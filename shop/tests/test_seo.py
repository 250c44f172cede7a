"""SEO basics a search engine (and a shopper sharing a link) sees: sitemap, robots.txt, canonical, OG, JSON-LD."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory

from shop.models import Category
from shop.tests.factories import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def _jsonld(html):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def test_sitemap_lists_products_on_sale_and_active_categories_only(client):
    shown = CategoryFactory(name="零食", slug="snacks")
    hidden = CategoryFactory(name="停用", slug="retired", is_active=False)
    on_sale = ProductFactory(category=shown, slug="on-sale")
    off_sale = ProductFactory(category=shown, slug="off-sale", is_active=False)
    in_hidden = ProductFactory(category=hidden, slug="in-hidden-category")

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    body = response.content.decode()
    assert f"http://testserver{on_sale.get_absolute_url()}" in body
    assert off_sale.get_absolute_url() not in body
    assert in_hidden.get_absolute_url() not in body
    assert shown.get_absolute_url() in body
    assert hidden.get_absolute_url() not in body
    assert "<loc>http://testserver/</loc>" in body


def test_robots_txt_keeps_private_pages_out_and_points_at_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for path in ("/admin/", "/member/", "/cart/", "/checkout/", "/orders/", "/api/", "/accounts/"):
        assert f"Disallow: {path}\n" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


def test_product_page_has_canonical_open_graph_and_valid_json_ld(client):
    top = CategoryFactory(name="数码", slug="digital")
    phones = CategoryFactory(name="手机", slug="phones", parent=top)
    product = ProductFactory(
        category=phones,
        brand=BrandFactory(name="星河", slug="xinghe"),
        name="星河手机 </script><script>alert(1)</script>",
        slug="xinghe-phone",
        price=Decimal("1999.00"),
        description="六英寸屏幕，全天续航。",
        rating_avg=Decimal("4.50"),
        rating_count=8,
    )
    ProductImageFactory(product=product)

    response = client.get(product.get_absolute_url() + "?utm_source=share")

    html = response.content.decode()
    assert '<link rel="canonical" href="http://testserver/p/xinghe-phone/">' in html
    assert '<meta property="og:title" content="星河手机 &lt;/script&gt;' in html
    assert '<meta property="og:type" content="product">' in html
    assert '<meta name="description" content="六英寸屏幕，全天续航。">' in html
    assert "<script>alert(1)</script>" not in html
    blocks = {block["@type"]: block for block in _jsonld(html)}
    offer = blocks["Product"]["offers"]
    assert blocks["Product"]["name"] == product.name
    assert (offer["price"], offer["priceCurrency"]) == ("1999.00", "CNY")
    assert blocks["Product"]["aggregateRating"]["reviewCount"] == 8
    assert blocks["Product"]["brand"]["name"] == "星河"
    crumbs = [item["name"] for item in blocks["BreadcrumbList"]["itemListElement"]]
    assert crumbs == ["首页", "数码", "手机", product.name]


def test_category_page_has_breadcrumb_json_ld_and_its_own_canonical(client):
    category = CategoryFactory(name="零食", slug="snacks")

    html = client.get(category.get_absolute_url() + "?sort=price").content.decode()

    assert '<link rel="canonical" href="http://testserver/c/snacks/">' in html
    (crumbs,) = _jsonld(html)
    assert crumbs["@type"] == "BreadcrumbList"
    assert crumbs["itemListElement"][-1] == {
        "@type": "ListItem",
        "position": 2,
        "name": "零食",
        "item": "http://testserver/c/snacks/",
    }


def test_a_chinese_named_category_gets_a_pinyin_slug():
    first = Category.objects.create(name="影音耳机")
    second = Category.objects.create(name="影音耳机")

    assert first.slug == "ying-yin-er-ji"
    assert second.slug == "ying-yin-er-ji-2"
    assert first.get_absolute_url() == "/c/ying-yin-er-ji/"


def test_admin_saves_a_chinese_category_with_the_slug_left_empty():
    staff = StaffFactory(is_superuser=True)
    request = RequestFactory().get("/admin/shop/category/add/")
    request.user = staff
    model_admin = admin_site._registry[Category]
    form_class = model_admin.get_form(request)

    form = form_class(data={"name": "休闲零食", "slug": "", "position": 0, "is_active": "on"})

    assert form.is_valid(), form.errors
    category = form.save()
    assert category.slug == "xiu-xian-ling-shi"
