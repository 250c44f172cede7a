"""Staff admin: pages load, actions go through the services and record who did it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shop.models import Order, OrderStatusChange, Product, Review
from shop.services.orders import order_mark_paid
from shop.tests.factories import (
    CategoryFactory,
    EventFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ProductImageFactory,
    ReviewFactory,
    StaffFactory,
    UserFactory,
    bought,
    image_bytes,
)
from shop.validators import validate_product_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_admin_pages_load_for_staff(staff_client):
    product = ProductFactory()
    ProductImageFactory(product=product)
    order = OrderLineFactory().order
    review = ReviewFactory()
    event = EventFactory()
    for name, obj in [
        ("product", product),
        ("category", product.category),
        ("brand", product.brand),
        ("order", order),
        ("review", review),
        ("event", event),
        ("tag", None),
        ("payment", None),
    ]:
        assert staff_client.get(reverse(f"admin:shop_{name}_changelist")).status_code == 200, name
        if obj is not None:
            url = reverse(f"admin:shop_{name}_change", args=[obj.pk])
            assert staff_client.get(url).status_code == 200, name
    assert "优选商城 管理后台" in staff_client.get(reverse("admin:index")).content.decode()


def test_members_cannot_open_the_admin(client):
    client.force_login(UserFactory())
    assert client.get(reverse("admin:shop_product_changelist")).status_code == 302


def test_events_are_read_only(staff_client):
    event = EventFactory()
    assert staff_client.get(reverse("admin:shop_event_add")).status_code == 403
    assert (
        staff_client.post(reverse("admin:shop_event_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )


def _action(client, model, action, objects):
    return client.post(
        reverse(f"admin:shop_{model}_changelist"),
        {"action": action, "_selected_action": [o.pk for o in objects]},
        follow=True,
    )


def test_bulk_activate_and_deactivate(staff_client):
    products = [ProductFactory(), ProductFactory()]
    _action(staff_client, "product", "deactivate", products)
    assert not Product.objects.filter(is_active=True).exists()
    _action(staff_client, "product", "activate", products[:1])
    assert Product.objects.filter(is_active=True).count() == 1


def test_order_actions_use_the_services_and_record_the_staff_member(staff_client):
    line = OrderLineFactory(order__status=Order.Status.PENDING_PAYMENT)
    order = order_mark_paid(order=line.order)
    response = _action(staff_client, "order", "mark_shipped", [order])
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipped_at
    change = OrderStatusChange.objects.get(order=order, to_status=Order.Status.SHIPPED)
    assert change.changed_by == response.wsgi_request.user
    _action(staff_client, "order", "mark_completed", [order])
    _action(staff_client, "order", "refund", [order])
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_refused_order_action_gives_a_message(staff_client):
    order = OrderFactory(status=Order.Status.COMPLETED)
    response = _action(staff_client, "order", "cancel", [order])
    assert any(order.number in str(m) for m in response.context["messages"])
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_review_moderation_actions(staff_client):
    product = ProductFactory()
    user = UserFactory()
    bought(user, product)
    review = ReviewFactory(product=product, user=user, rating=2)
    _action(staff_client, "review", "reject", [review])
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED
    _action(staff_client, "review", "approve", [review])
    product.refresh_from_db()
    assert product.rating_count == 1 and product.rating_avg == 2


def test_category_list_shows_product_counts(staff_client):
    category = CategoryFactory()
    ProductFactory.create_batch(3, category=category)
    response = staff_client.get(reverse("admin:shop_category_changelist"))
    assert response.status_code == 200


def test_product_image_validator():
    validate_product_image(SimpleUploadedFile("a.png", image_bytes(image_format="PNG")))
    validate_product_image(SimpleUploadedFile("a.webp", image_bytes(image_format="WEBP")))
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_product_image(SimpleUploadedFile("a.jpg", b"not an image"))
    with pytest.raises(ValidationError):
        validate_product_image(SimpleUploadedFile("a.gif", image_bytes(image_format="GIF")))
    big = SimpleUploadedFile("big.jpg", image_bytes())
    big.size = 6 * 1024 * 1024
    with pytest.raises(ValidationError):
        validate_product_image(big)
