"""Staff roles (issue 12, staff work): seeded groups with least privilege, as each role sees the admin."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from members.roles import ANALYST, CUSTOMER_SERVICE, OPERATIONS, WAREHOUSE, staff_roles_sync
from members.tests.factories import UserFactory
from shop.models import Order
from shop.tests.factories import OrderFactory, StaffFactory

pytestmark = pytest.mark.django_db


def staff_in(role):
    staff_roles_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_roles_are_created_idempotently_and_a_stray_permission_is_removed():
    call_command("staff_roles_sync", verbosity=0)
    warehouse = Group.objects.get(name=WAREHOUSE)
    warehouse.permissions.add(*Group.objects.get(name=OPERATIONS).permissions.all())  # an edit by hand
    call_command("staff_roles_sync", verbosity=0)
    assert Group.objects.filter(name__in=[CUSTOMER_SERVICE, OPERATIONS, WAREHOUSE, ANALYST]).count() == 4
    assert sorted(p.codename for p in warehouse.permissions.all()) == [
        "ship_order",
        "view_order",
        "view_orderline",
        "view_orderstatuschange",
    ]
    assert not Group.objects.filter(permissions__codename__in=["view_personal_data", "manage_staff"]).exists()


def test_warehouse_sees_orders_and_can_ship_only(client):
    order = OrderFactory(status=Order.Status.PAID)
    client.force_login(staff_in(WAREHOUSE))
    page = client.get(reverse("admin:shop_order_changelist"))
    assert page.status_code == 200
    actions = [value for value, _label in page.context["action_form"].fields["action"].choices if value]
    assert actions == ["mark_shipped"]
    client.post(
        reverse("admin:shop_order_changelist"), {"action": "mark_shipped", "_selected_action": [order.pk]}
    )
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    refused = client.post(
        reverse("admin:shop_order_changelist"), {"action": "refund", "_selected_action": [order.pk]}
    )
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and refused.status_code == 302  # not one of their actions
    assert client.get(reverse("admin:members_user_changelist")).status_code == 403
    assert client.get(reverse("admin:shop_product_changelist")).status_code == 403


def test_customer_service_sees_members_masked_and_handles_orders(client):
    member = UserFactory(email="secret.person@example.com")
    client.force_login(staff_in(CUSTOMER_SERVICE))
    page = client.get(reverse("admin:members_user_changelist")).content.decode()
    assert "secret.person@example.com" not in page and "s***@example.com" in page
    orders = client.get(reverse("admin:shop_order_changelist"))
    actions = {value for value, _label in orders.context["action_form"].fields["action"].choices if value}
    assert {"refund", "cancel", "mark_shipped"} <= actions
    assert client.get(reverse("admin:members_user_change", args=[member.pk])).status_code == 200
    assert client.get(reverse("admin:shop_product_add")).status_code == 403


def test_operations_edit_the_catalogue_and_coupons_but_not_orders_or_members(client):
    client.force_login(staff_in(OPERATIONS))
    assert client.get(reverse("admin:shop_product_add")).status_code == 200
    assert client.get(reverse("admin:members_coupontemplate_add")).status_code == 200
    assert client.get(reverse("admin:shop_order_changelist")).status_code == 403
    assert client.get(reverse("admin:members_user_changelist")).status_code == 403


def test_analyst_reads_the_recommender_and_nothing_else(client):
    client.force_login(staff_in(ANALYST))
    assert client.get(reverse("admin:recommender_trainingrun_changelist")).status_code == 200
    assert client.get(reverse("admin:recommender_experiment_changelist")).status_code == 200
    assert client.get(reverse("admin:recommender_experiment_add")).status_code == 403
    assert client.get(reverse("admin:shop_order_changelist")).status_code == 403


def test_superusers_see_who_has_what_and_nobody_else_does(client):
    cs = staff_in(CUSTOMER_SERVICE)
    url = reverse("admin:auth_group_who_has_what")
    client.force_login(cs)
    assert client.get(url).status_code == 403
    client.force_login(StaffFactory())
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert CUSTOMER_SERVICE in text and "shop.ship_order" in text and cs.email in text
    assert url in client.get(reverse("admin:auth_group_changelist")).content.decode()
