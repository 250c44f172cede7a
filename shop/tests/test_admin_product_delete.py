"""Deleting a product in the admin: one with history is explained and taken off sale, never a bare 403."""

import pytest

from shop.models import Event, Product
from shop.tests.factories import EventFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)
    return client


def test_a_product_with_history_is_explained_and_can_be_taken_off_sale(staff_client):
    product = ProductFactory(name="保温杯")
    EventFactory(product=product, kind=Event.Kind.VIEW)
    url = f"/admin/shop/product/{product.pk}/delete/"
    page = staff_client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "不能删除" in body and "改为下架" in body
    staff_client.post(url, {"deactivate": "1"})
    product.refresh_from_db()
    assert product.is_active is False and Event.objects.filter(product=product).exists()


def test_a_product_without_history_is_deleted_as_usual(staff_client):
    product = ProductFactory()
    staff_client.post(f"/admin/shop/product/{product.pk}/delete/", {"post": "yes"})
    assert not Product.objects.filter(pk=product.pk).exists()


def test_bulk_delete_takes_products_with_history_off_sale(staff_client):
    kept, gone = ProductFactory(), ProductFactory()
    EventFactory(product=kept, kind=Event.Kind.VIEW)
    staff_client.post(
        "/admin/shop/product/",
        {"action": "delete_selected", "_selected_action": [kept.pk, gone.pk], "post": "yes"},
    )
    kept.refresh_from_db()
    assert kept.is_active is False
    assert not Product.objects.filter(pk=gone.pk).exists()
