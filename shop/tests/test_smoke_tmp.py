import pytest
from shop.tests.factories import ProductFactory, ProductImageFactory, UserFactory, ReviewFactory, bought

pytestmark = pytest.mark.django_db

def test_pages(client):
    p = ProductFactory(category__parent=None)
    ProductImageFactory(product=p)
    for url in ["/", p.category.get_absolute_url(), p.get_absolute_url(), "/search/?q=测试", "/search/", "/cart/"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.content[:2000])
    r = client.post("/cart/add/", {"product_id": p.pk, "quantity": 2})
    assert r.status_code == 302
    r = client.get("/cart/"); assert r.status_code == 200; assert "测试商品" in r.content.decode()
    u = UserFactory()
    client.force_login(u)
    r = client.get("/checkout/"); assert r.status_code == 200, r.content[:3000]
    key = r.context["form"].initial["idempotency_key"]
    r = client.post("/checkout/", {"recipient_name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州", "address_line": "文三路1号", "shipping_method": "standard", "idempotency_key": key, "points": 0})
    assert r.status_code == 302, r.content.decode()[:5000]
    r = client.get(r.url); assert r.status_code == 200
    form = r.context["outcomes"][0][1]
    r = client.post("/pay/callback/", form); assert r.status_code == 302, r.content
    r = client.get(r.url); assert r.status_code == 200
    for url in ["/orders/", r.context["order"].get_absolute_url()]:
        assert client.get(url).status_code == 200
