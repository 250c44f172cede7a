"""Catalogue pages: listing filters, search, product page, 404s, and bounded query counts."""

from decimal import Decimal

import pytest
from django.urls import reverse

from shop.models import Event
from shop.tests.factories import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ReviewFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
MAX_QUERIES = 12


@pytest.fixture
def catalogue():
    """Two-level categories with 30 products (images, brands, tags, reviews) under one child."""
    top = CategoryFactory(name="数码电器", slug="digital")
    child = CategoryFactory(name="手机", slug="phones", parent=top)
    brands = [BrandFactory(name="星河", slug="xinghe"), BrandFactory(name="极光", slug="jiguang")]
    tag = TagFactory()
    products = []
    for i in range(30):
        product = ProductFactory(
            category=child,
            brand=brands[i % 2],
            name=f"智能手机{i}号",
            price=Decimal(100 + i),
            stock=0 if i == 0 else 10,
        )
        ProductImageFactory(product=product)
        ProductImageFactory(product=product, position=1)
        product.tags.add(tag)
        products.append(product)
    for _ in range(12):
        ReviewFactory(product=products[5])
    return {"top": top, "child": child, "brands": brands, "products": products}


def test_pages_stay_within_query_budget(client, catalogue, django_assert_max_num_queries):
    # given a catalogue of 30 products with images, brands, tags and reviews
    product = catalogue["products"][5]
    urls = [
        reverse("shop:home"),
        catalogue["top"].get_absolute_url(),
        catalogue["child"].get_absolute_url(),
        product.get_absolute_url(),
        reverse("shop:search") + "?q=智能手机",
        reverse("shop:cart"),
    ]
    for url in urls:
        client.get(url)  # warm the navigation cache and the visitor session
        # when each page is rendered, then it runs at most 12 queries
        with django_assert_max_num_queries(MAX_QUERIES):
            response = client.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("warm", [False, True], ids=["cold-cache", "warm-cache"])
def test_member_pages_stay_within_query_budget(client, catalogue, warm, django_assert_max_num_queries):
    # given a signed-in member with favourites and a personalised list in the active run
    from django.core.cache import cache

    from members.models import Favourite
    from recommender.tests.factories import active_run, member_rows, popular_rows

    member = UserFactory()
    products = catalogue["products"]
    Favourite.objects.bulk_create(Favourite(user=member, product=p) for p in products[:8])
    run = active_run()
    member_rows(run, member, products[10:30])
    popular_rows(run, products)
    client.force_login(member)
    client.get(reverse("shop:home"))  # the first request of a session saves it
    urls = [
        reverse("shop:home"),
        catalogue["top"].get_absolute_url(),
        catalogue["child"].get_absolute_url(),
        products[5].get_absolute_url(),
        reverse("shop:search") + "?q=智能手机",
        reverse("shop:cart"),
    ]
    for url in urls:
        if warm:
            client.get(url)
        else:
            cache.clear()
        # when each page is rendered, then it runs at most 12 queries, favourites included
        with django_assert_max_num_queries(MAX_QUERIES):
            response = client.get(url)
        assert response.status_code == 200, url
    assert "已收藏" in client.get(catalogue["top"].get_absolute_url()).content.decode()


def test_category_shows_24_per_page_including_subcategories(client, catalogue):
    response = client.get(catalogue["top"].get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == 24
    assert response.context["page_obj"].paginator.count == 30
    second = client.get(catalogue["top"].get_absolute_url() + "?page=2")
    assert len(second.context["page_obj"].object_list) == 6


def test_category_filters_and_sorts(client, catalogue):
    url = catalogue["child"].get_absolute_url()
    response = client.get(url, {"min_price": "110", "max_price": "119", "sort": "price_desc"})
    prices = [p.price for p in response.context["page_obj"].object_list]
    assert prices == sorted(prices, reverse=True)
    assert prices[0] == Decimal("119") and prices[-1] == Decimal("110")

    response = client.get(url, {"brand": "jiguang"})
    assert {p.brand.slug for p in response.context["page_obj"].object_list} == {"jiguang"}

    response = client.get(url, {"in_stock": "on"})
    assert response.context["page_obj"].paginator.count == 29


def test_bad_filter_values_are_ignored_not_500(client, catalogue):
    response = client.get(
        catalogue["child"].get_absolute_url(),
        {"min_price": "abc", "max_price": "-5", "sort": "drop table", "page": "x", "brand": "nope"},
    )
    assert response.status_code == 200
    assert response.context["page_obj"].number == 1


def test_unknown_slugs_give_404(client, catalogue):
    assert client.get("/c/no-such-category/").status_code == 404
    assert client.get("/p/no-such-product/").status_code == 404
    hidden = ProductFactory(is_active=False)
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_search_chinese_substring_and_terms_are_anded(client, catalogue):
    ProductFactory(name="纯棉T恤", description="夏季透气", brand=catalogue["brands"][0])
    response = client.get(reverse("shop:search"), {"q": "棉T"})
    assert [p.name for p in response.context["page_obj"].object_list] == ["纯棉T恤"]
    # a brand name matches too; two terms must both match
    response = client.get(reverse("shop:search"), {"q": "星河 透气"})
    assert [p.name for p in response.context["page_obj"].object_list] == ["纯棉T恤"]
    response = client.get(reverse("shop:search"), {"q": "星河 不存在的词"})
    assert response.context["page_obj"].paginator.count == 0


@pytest.mark.parametrize("query", ["", "   ", "a" * 5000, "%_\\'\"<script>", "手机 " * 50, "\x00"])
def test_odd_searches_do_not_fail(client, catalogue, query):
    response = client.get(reverse("shop:search"), {"q": query})
    assert response.status_code == 200
    assert len(response.context["search_query"]) <= 100


def test_search_and_view_are_recorded(client, catalogue):
    product = catalogue["products"][3]
    client.get(reverse("shop:search"), {"q": "智能"})
    client.get(product.get_absolute_url())
    search = Event.objects.get(kind=Event.Kind.SEARCH)
    assert search.query == "智能" and search.session_key
    view = Event.objects.get(kind=Event.Kind.VIEW)
    assert view.product == product and view.session_key == search.session_key


def test_product_page_shows_price_specs_and_rating_distribution(client, catalogue):
    product = catalogue["products"][5]
    from shop.services.reviews import product_rating_recompute

    product_rating_recompute(product=product)
    response = client.get(product.get_absolute_url())
    html = response.content.decode()
    assert "¥105.00" in html and "材质" in html
    assert response.context["distribution"][0] == (5, 12)
    assert response.context["review_total"] == 12
    assert len(response.context["reviews"].object_list) == 10  # paginated


def test_home_lists_new_arrivals_and_best_sellers(client, catalogue):
    best = catalogue["products"][7]
    best.sales_count = 999
    best.save()
    response = client.get(reverse("shop:home"))
    assert response.context["best_sellers"][0] == best
    assert len(response.context["new_arrivals"]) == 10
    assert "rec-slot" in response.content.decode()


def test_pages_have_no_inline_styles_or_scripts(client, catalogue):
    user = UserFactory()
    client.force_login(user)
    for url in [
        reverse("shop:home"),
        catalogue["child"].get_absolute_url(),
        catalogue["products"][1].get_absolute_url(),
        reverse("shop:cart"),
    ]:
        html = client.get(url).content.decode()
        assert "style=" not in html
        assert "<script>" not in html and "onclick" not in html


def test_search_shows_the_sort_it_applies(client, catalogue):
    response = client.get(reverse("shop:search"), {"q": "智能"})
    # relevance (then sales, then rating) is the search's own order since issue 16
    assert response.context["form"]["sort"].value() == "relevance"
