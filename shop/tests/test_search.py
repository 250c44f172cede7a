"""Search: the relevance set (queries → products that must come first), facets, highlights, suggestions,
the index kept current, and odd input. Runs on SQLite and on PostgreSQL (CI) alike: nothing is skipped."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop import search, selectors
from shop.models import Product
from shop.tests.factories import BrandFactory, CategoryFactory, ProductFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """A small catalogue shaped like the demo's: top categories with children, brands, tags."""
    digital = CategoryFactory(name="数码电器", slug="digital")
    computers = CategoryFactory(name="电脑办公", slug="computers", parent=digital)
    audio = CategoryFactory(name="影音耳机", slug="audio", parent=digital)
    phones = CategoryFactory(name="手机", slug="phones", parent=digital)
    food = CategoryFactory(name="食品生鲜", slug="food")
    snacks = CategoryFactory(name="零食", slug="snacks", parent=food)
    tea = CategoryFactory(name="茶饮冲调", slug="tea", parent=food)
    fashion = CategoryFactory(name="服饰鞋包", slug="fashion")
    men = CategoryFactory(name="男装", slug="men", parent=fashion)
    women = CategoryFactory(name="女装", slug="women", parent=fashion)
    brand = {
        name: BrandFactory(name=name, slug=slug)
        for name, slug in [
            ("智享", "zhixiang"),
            ("星河", "xinghe"),
            ("声派", "shengpai"),
            ("三只猫", "sanzhimao"),
            ("北纬", "beiwei"),
            ("云裳", "yunshang"),
        ]
    }

    def make(
        key, name, category, brand_name, sales, price="99.00", description="一件用于测试的商品。", tags=()
    ):
        product = ProductFactory(
            name=name,
            category=category,
            brand=brand[brand_name],
            sales_count=sales,
            price=Decimal(price),
            description=description,
            attributes={},
        )
        for tag in tags:
            product.tags.add(tag)
        return key, product

    earphone_tag = TagFactory(name="耳机")
    hot = TagFactory(name="热卖")
    p = dict(
        [
            make("mouse_zx", "智享 轻奢铝合金无线鼠标 Pro", computers, "智享", 10, "129.00"),
            make("mouse_xh", "星河 便携无线鼠标", computers, "星河", 50, "59.00"),
            make("keyboard_zx", "智享 机械键盘", computers, "智享", 100, "299.00"),
            make("earbuds", "声派 蓝牙耳机 Max", audio, "声派", 30, "199.00"),
            make("headphones", "星河 头戴耳机", audio, "星河", 5, "399.00"),
            make("speaker", "声派 便携音箱", audio, "声派", 200, "159.00", tags=[hot]),
            make("charger", "星河 快充充电器", phones, "星河", 300, "39.00", tags=[earphone_tag]),
            make("cable", "星河 数据线", phones, "星河", 400, "19.00", description="也能给耳机充电。"),
            make("nuts", "三只猫 坚果礼盒", snacks, "三只猫", 40, "89.00"),
            make("jerky", "三只猫 牛肉干", snacks, "三只猫", 80, "45.00"),
            make("longjing", "三只猫 龙井茶", tea, "三只猫", 90, "299.00"),
            make("jacket", "北纬 纯棉夹克", men, "北纬", 20, "399.00"),
            make("dress", "云裳 真丝连衣裙", women, "云裳", 60, "499.00"),
        ]
    )
    return p


def found(query, **kwargs):
    return [p.name for p in selectors.products_search(query, **kwargs)]


def index_of(product):
    return Product.objects.get(pk=product.pk)


def names(shop, *keys):
    return [shop[key].name for key in keys]


# The relevance set: (query, products that must come first, in this order or as a set, products never found).
RELEVANCE = [
    # category names from the top navigation find their products (the issue: 0 results before)
    ("零食", {"first": ["jerky", "nuts"], "only": True}),
    ("男装", {"first": ["jacket"], "only": True}),
    ("影音耳机", {"first_set": ["earbuds", "headphones"], "then": ["speaker"], "only": True}),
    # word order and missing spaces do not matter; an unknown brand name is still one term
    ("鼠标无线", {"first_set": ["mouse_zx", "mouse_xh"], "only": True}),
    ("无线鼠标", {"first_set": ["mouse_zx", "mouse_xh"], "only": True}),
    ("智享鼠标", {"first": ["mouse_zx"], "only": True}),
    ("智享 鼠标", {"first": ["mouse_zx"], "only": True}),
    # traditional characters fold to simplified; name > category > tag > description
    ("耳機", {"first": ["earbuds", "headphones", "speaker", "charger", "cable"], "only": True}),
    ("耳机", {"first": ["earbuds", "headphones", "speaker", "charger", "cable"], "only": True}),
    ("無線滑鼠", {"first_set": ["mouse_zx", "mouse_xh"], "only": True}),  # Taiwan's word for a mouse
    # pinyin and initials of names, brands and categories
    ("shubiao", {"first_set": ["mouse_zx", "mouse_xh"], "only": True}),
    ("wuxian shubiao", {"first_set": ["mouse_zx", "mouse_xh"], "only": True}),
    ("wuxianshubiao", {"first_set": ["mouse_zx", "mouse_xh"], "only": True}),
    ("sb", {"first_set": ["mouse_zx", "mouse_xh"]}),
    ("lingshi", {"first": ["jerky", "nuts"], "only": True}),
    ("zhixiang", {"first_set": ["keyboard_zx", "mouse_zx"], "only": True}),
    # a partial Latin or pinyin word inside a name
    ("biao", {"first_set": ["mouse_zx", "mouse_xh"]}),
    # brand + category, parent category names, full-width Latin
    ("星河 耳机", {"first": ["headphones", "charger", "cable"], "only": True}),
    ("数码电器 鼠标", {"first_set": ["mouse_zx", "mouse_xh"], "only": True}),
    ("ＰＲＯ", {"first": ["mouse_zx"], "only": True}),
    # a stop word does not empty the result
    ("星河的鼠标", {"first": ["mouse_xh"], "only": True}),
    ("不存在的东西", {"first": [], "only": True}),
]


@pytest.mark.parametrize("query,expect", RELEVANCE, ids=[q for q, _ in RELEVANCE])
def test_relevance_set(shop, query, expect):
    # given the catalogue; when a shopper searches; then these products come first (and only they)
    results = found(query)
    first = names(shop, *expect.get("first", []))
    first_set = names(shop, *expect.get("first_set", []))
    then = names(shop, *expect.get("then", []))
    if first:
        assert results[: len(first)] == first, results
    if first_set:
        assert set(results[: len(first_set)]) == set(first_set), results
        assert results[len(first_set) : len(first_set) + len(then)] == then, results
    if expect.get("only"):
        assert len(results) == len(first or first_set) + len(then), results


def test_equal_relevance_is_ordered_by_sales_then_rating(shop):
    shop["mouse_zx"].sales_count = shop["mouse_xh"].sales_count
    shop["mouse_zx"].rating_avg = Decimal("4.80")
    shop["mouse_zx"].save(update_fields=["sales_count", "rating_avg"])
    # 鼠标 is in both names once (weight A) and in both categories' paths not at all: a tie on relevance
    assert found("鼠标")[:2] == names(shop, "mouse_zx", "mouse_xh")
    shop["mouse_xh"].sales_count = 51
    shop["mouse_xh"].save(update_fields=["sales_count"])
    assert found("鼠标")[:2] == names(shop, "mouse_xh", "mouse_zx")


def test_other_sorts_still_apply_to_the_matches(shop):
    assert found("鼠标", sort="price_asc") == names(shop, "mouse_xh", "mouse_zx")
    assert found("鼠标", sort="price_desc") == names(shop, "mouse_zx", "mouse_xh")


def test_inactive_products_are_not_found(shop):
    shop["jacket"].is_active = False
    shop["jacket"].save()
    assert found("男装") == []


# --- the page ------------------------------------------------------------------------------------


def test_search_page_ranks_highlights_and_counts_facets(client, shop):
    response = client.get(reverse("shop:search"), {"q": "耳機"})
    assert response.status_code == 200
    assert [p.name for p in response.context["page_obj"].object_list][:2] == names(
        shop, "earbuds", "headphones"
    )
    html = response.content.decode()
    assert "声派 蓝牙<mark>耳机</mark> Max" in html
    facets = response.context["facets"]
    assert {row["slug"]: row["n"] for row in facets["categories"]} == {"audio": 3, "phones": 2}
    assert {row["slug"]: row["n"] for row in facets["brands"]} == {"xinghe": 3, "shengpai": 2}
    assert sum(band["n"] for band in facets["prices"]) == 5
    assert {(band["min"], band["max"]): band["n"] for band in facets["prices"]} == {
        (None, 50): 2,
        (100, 300): 2,
        (300, 1000): 1,
    }
    assert "影音耳机" in html and "(3)" in html


def test_facet_filters_narrow_the_results_and_keep_the_other_counts(client, shop):
    response = client.get(reverse("shop:search"), {"q": "耳机", "category": "audio", "brand": "xinghe"})
    assert [p.name for p in response.context["page_obj"].object_list] == names(shop, "headphones")
    facets = response.context["facets"]
    # the category facet ignores the category filter (so another category can be picked) but not the brand
    assert {row["slug"]: row["n"] for row in facets["categories"]} == {"audio": 1, "phones": 2}
    # the brand facet ignores the brand filter, not the category
    assert {row["slug"]: row["n"] for row in facets["brands"]} == {"shengpai": 2, "xinghe": 1}
    response = client.get(reverse("shop:search"), {"q": "耳机", "min_price": "100", "max_price": "300"})
    assert sorted(p.name for p in response.context["page_obj"].object_list) == sorted(
        names(shop, "earbuds", "speaker")
    )


def test_relevance_is_the_default_order_and_shown(client, shop):
    response = client.get(reverse("shop:search"), {"q": "鼠标"})
    assert response.context["form"]["sort"].value() == "relevance"
    assert "相关度" in response.content.decode()


@pytest.mark.parametrize("query", ["<script>alert(1)</script>鼠标", '"><img src=x onerror=alert(1)>鼠标'])
def test_queries_cannot_inject_markup(client, shop, query):
    html = client.get(reverse("shop:search"), {"q": query}).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;" in html  # shown back, escaped


def test_highlight_escapes_the_name_itself():
    marked = search.highlight("<b>无线</b>鼠标 & Co", ["鼠标", "<b>"])
    # a term that looks like markup is matched as text and escaped inside our own <mark>
    assert marked == "<mark>&lt;b&gt;</mark>无线&lt;/b&gt;<mark>鼠标</mark> &amp; Co"


def test_a_5000_character_query_is_cut_and_the_page_says_so(client, shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = client.get(reverse("shop:search"), {"q": "鼠" * 5000})
    assert response.status_code == 200
    assert len(response.context["search_query"]) == search.MAX_QUERY_LENGTH
    html = response.content.decode()
    assert "搜索词过长" in html
    assert "鼠" * 101 not in html
    assert 'class="search-title"' in html  # the heading that wraps instead of widening the page


def test_many_terms_are_capped():
    parsed = search.parse_query(" ".join(f"词{i}" for i in range(50)))
    assert len(parsed.terms) <= search.MAX_TERMS and len(parsed.units) <= search.MAX_UNITS


# --- suggestions ---------------------------------------------------------------------------------


def test_suggestions_offer_categories_then_products(client, shop):
    response = client.get(reverse("shop:search_suggest"), {"q": "耳机"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    suggestions = response.json()["suggestions"]
    assert suggestions[0] == {"kind": "category", "text": "影音耳机", "url": "/c/audio/"}
    products = [s["text"] for s in suggestions if s["kind"] == "product"]
    assert products[:2] == names(shop, "earbuds", "headphones")
    assert len(suggestions) <= search.SUGGEST_LIMIT


def test_suggestions_for_pinyin_and_for_nothing(client, shop):
    suggestions = client.get(reverse("shop:search_suggest"), {"q": "lingshi"}).json()["suggestions"]
    assert suggestions[0]["text"] == "零食"
    assert client.get(reverse("shop:search_suggest"), {"q": ""}).json() == {"suggestions": []}
    assert client.get(reverse("shop:search_suggest"), {"q": "x" * 5000}).status_code == 200


def test_the_page_loads_the_suggestion_script(client, shop):
    html = client.get(reverse("shop:search"), {"q": "耳机"}).content.decode()
    assert "search-suggest.js" in html and reverse("shop:search_suggest") in html


# --- the index stays current ---------------------------------------------------------------------


def test_index_follows_product_brand_category_and_tag_changes(shop):
    mouse = shop["mouse_xh"]
    mouse.name = "星河 静音鼠标"
    mouse.save()
    assert mouse.name in found("静音")
    # a brand renamed: its products are found by the new name, not the old
    brand = mouse.brand
    brand.name = "银河"
    brand.save()
    assert mouse.name in found("银河")
    assert "银河" in index_of(mouse).search_meta and "星河" not in index_of(mouse).search_meta
    # a category renamed, and a parent category renamed
    category = mouse.category
    category.name = "办公外设"
    category.save()
    assert mouse.name in found("外设")
    parent = category.parent
    parent.name = "电子产品"
    parent.save()
    assert mouse.name in found("电子产品")
    # tags added and removed, from either side
    tag = TagFactory(name="开学季")
    mouse.tags.add(tag)
    assert found("开学季") == [mouse.name]
    tag.products.add(shop["jacket"])
    assert set(found("开学季")) == {mouse.name, shop["jacket"].name}
    tag.products.clear()
    assert found("开学季") == []
    mouse.tags.add(tag)
    tag.name = "返校季"
    tag.save()
    assert found("返校季") == [mouse.name]
    tag.delete()
    assert found("返校季") == []
    # a brand deleted: its products lose its name
    shop["dress"].brand.delete()
    assert "云裳" not in index_of(shop["dress"]).search_meta


def test_a_stock_only_save_does_not_reindex(shop):
    product = shop["jacket"]
    product.stock = 3
    with CaptureQueriesContext(connection) as queries:
        product.save(update_fields=["stock"])
    assert not [q for q in queries.captured_queries if "search_name" in q["sql"] and "UPDATE" in q["sql"]]


def test_search_reindex_command_rebuilds_everything(shop, capsys):
    Product.objects.update(search_name="", search_meta="", search_tags="", search_body="", search_vector=None)
    assert found("鼠标") == []
    call_command("search_reindex", verbosity=0)
    assert capsys.readouterr().out == ""
    assert set(found("鼠标")) == set(names(shop, "mouse_zx", "mouse_xh"))
    call_command("search_reindex", verbosity=1)
    assert f"search index: {Product.objects.count()} products" in capsys.readouterr().out


def test_the_api_searches_the_same_way(client, shop):
    response = client.get("/api/v1/products/", {"q": "鼠标无线"})
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert {row["name"] for row in rows} == set(names(shop, "mouse_zx", "mouse_xh"))


def test_on_postgresql_the_vector_is_filled_and_indexed(shop):
    # On SQLite there is no tsvector: the lexeme columns are what it searches.
    product = Product.objects.get(pk=shop["mouse_zx"].pk)
    assert " 鼠标" in product.search_name and " zhixiang" in product.search_meta
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'shop_product'")
            indexes = {row[0] for row in cursor.fetchall()}
        assert {"shop_product_search_vector_gin", "shop_product_search_name_trgm"} <= indexes
        assert product.search_vector


def test_the_migration_indexes_products_that_already_exist(shop):
    # given a shop whose products were there before search existed (empty columns)
    import importlib

    from django.apps import apps

    migration = importlib.import_module("shop.migrations.0006_product_search")
    Product.objects.update(search_name="", search_meta="", search_tags="", search_body="", search_vector=None)
    # when the migration's fill step runs, then they are found as if the service had indexed them
    # (a stand-in for the schema editor: SQLite's refuses to open inside the test's transaction)
    editor = SimpleNamespace(connection=connection, execute=lambda sql: connection.cursor().execute(sql))
    migration.index_fill(apps, editor)
    assert found("智享鼠标")[0] == shop["mouse_zx"].name
    assert set(found("零食")) == set(names(shop, "nuts", "jerky"))
