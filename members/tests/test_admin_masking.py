"""Masked staff see no personal data anywhere a person is named, cannot filter by it, and every view of
unmasked data is logged (issue 12, item 2)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from members.models import PersonalDataAccess, User
from members.services import points as points_services
from members.tests.factories import AddressFactory, OrderFactory, ProductFactory, UserFactory
from shop.models import Event, Review

pytestmark = pytest.mark.django_db

SECRET = "hidden.person@example.com"


def staff_with(*codenames):
    staff = UserFactory(is_staff=True)
    for codename in codenames:
        app, code = codename.split(".")
        staff.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=code))
    return staff


@pytest.fixture
def member():
    return UserFactory(email=SECRET, username=SECRET)


def body(response):
    return response.content.decode()


def test_member_change_and_history_pages_do_not_name_the_member_by_email(client, member):
    client.force_login(staff_with("members.view_user"))
    change = body(client.get(reverse("admin:members_user_change", args=[member.pk])))
    history = body(client.get(reverse("admin:members_user_history", args=[member.pk])))
    for page in (change, history):
        assert "hidden.person" not in page  # not in <title>, heading, breadcrumb or fields
        assert f"会员 #{member.pk}" in page


def test_success_message_and_recent_actions_do_not_name_the_member_by_email(client, member):
    staff = staff_with("members.view_user", "members.change_user", "members.change_profile")
    client.force_login(staff)
    data = {
        "is_active": "on",
        "first_name": "",
        "last_name": "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": member.profile.pk,
        "profile-0-user": member.pk,
        "profile-0-gender": "",
        "profile-0-display_name": "",
        "profile-0-personalization_enabled": "on",
    }
    response = client.post(reverse("admin:members_user_change", args=[member.pk]), data, follow=True)
    assert response.redirect_chain, body(response)[:2000]
    assert "hidden.person" not in body(response)
    entry = LogEntry.objects.get(user=staff)
    assert entry.object_repr == f"会员 #{member.pk}"
    assert "hidden.person" not in body(client.get(reverse("admin:index")))


def test_address_and_ledger_titles_carry_no_personal_data(client, member):
    address = AddressFactory(user=member, recipient_name="王秘密", address_line="秘密路 1 号")
    entry = points_services.points_staff_adjust(user=member, delta=5, staff=None, note="x")
    for title in (str(address), str(entry), str(member.points_account)):
        assert "王秘密" not in title and "秘密路" not in title and "hidden.person" not in title
    client.force_login(staff_with("members.view_address", "members.view_pointsentry"))
    page = body(client.get(reverse("admin:members_address_change", args=[address.pk])))
    assert "王秘密" not in page and "秘密路" not in page and "hidden.person" not in page
    page = body(client.get(reverse("admin:members_pointsentry_change", args=[entry.pk])))
    assert "hidden.person" not in page


def test_review_and_event_lists_mask_emails_and_cannot_be_searched_by_email(client, member):
    product = ProductFactory()
    Review.objects.create(product=product, user=member, rating=5, title="好", body="很好")
    Event.objects.create(user=member, product=product, kind=Event.Kind.VIEW)
    client.force_login(staff_with("shop.view_review", "shop.view_event"))
    for name in ("review", "event"):
        url = reverse(f"admin:shop_{name}_changelist")
        page = body(client.get(url))
        assert "hidden.person" not in page and "h***@example.com" in page, name
        found = client.get(url, {"q": SECRET})
        assert found.status_code == 200 and found.context_data["cl"].result_count == 0, name


def test_review_and_event_lists_show_emails_to_staff_with_the_permission(client, member):
    product = ProductFactory()
    Review.objects.create(product=product, user=member, rating=5, title="好", body="很好")
    client.force_login(staff_with("shop.view_review", "members.view_personal_data"))
    url = reverse("admin:shop_review_changelist")
    assert SECRET in body(client.get(url))
    assert client.get(url, {"q": SECRET}).context_data["cl"].result_count == 1


@pytest.mark.parametrize(
    "model, lookup, value",
    [
        ("members_user", "email__startswith", "h"),
        ("members_user", "username__startswith", "h"),
        ("members_address", "phone__startswith", "139"),
        ("members_address", "phone", "13912345678"),
        ("members_address", "recipient_name__contains", "王"),
        ("shop_order", "phone__startswith", "139"),
        ("shop_order", "user__email__startswith", "h"),
        ("shop_review", "user__email__startswith", "h"),
    ],
)
def test_url_filters_on_masked_fields_are_refused(client, member, model, lookup, value):
    AddressFactory(user=member, phone="13912345678", recipient_name="王秘密")
    OrderFactory(user=member, phone="13912345678")
    app, name = model.split("_", 1)
    client.force_login(staff_with(f"{app}.view_{name}"))
    response = client.get(reverse(f"admin:{model}_changelist"), {lookup: value})
    assert response.status_code == 400
    assert "不能按手机、邮箱、姓名或地址筛选" in body(response)
    assert "13912345678" not in body(response)


def test_url_filters_on_personal_data_work_for_staff_with_the_permission(client, member):
    AddressFactory(user=member, phone="13912345678")
    client.force_login(staff_with("members.view_address", "members.view_personal_data"))
    response = client.get(reverse("admin:members_address_changelist"), {"phone__startswith": "139"})
    assert response.status_code == 200 and response.context_data["cl"].result_count == 1


def test_why_page_masks_the_member_and_refuses_email_lookups_without_the_permission(client, member):
    client.force_login(staff_with("recommender.view_trainingrun"))
    url = reverse("admin:recommender_why")
    page = body(client.get(url, {"member": member.pk}))
    assert "hidden.person" not in page and "h***@example.com" in page
    page = body(client.get(url, {"member": SECRET}))
    assert "只能按会员编号查找" in page and "hidden.person@example.com (#" not in page


def test_views_of_unmasked_personal_data_are_logged(client, member):
    staff = staff_with("members.view_user", "members.view_personal_data", "recommender.view_trainingrun")
    client.force_login(staff)
    url = reverse("admin:members_user_change", args=[member.pk])
    assert SECRET in body(client.get(url))
    access = PersonalDataAccess.objects.get()
    assert (access.staff, access.member, access.view, access.page) == (
        staff,
        member,
        "members.user change",
        url,
    )
    client.get(reverse("admin:members_user_changelist"))
    listed = set(
        PersonalDataAccess.objects.filter(view="members.user changelist").values_list("member_id", flat=True)
    )
    assert listed == set(User.objects.values_list("pk", flat=True))
    client.get(reverse("admin:recommender_why"), {"member": member.pk})
    assert PersonalDataAccess.objects.filter(view="recommender why", member=member, staff=staff).exists()


def test_masked_views_are_not_logged_and_the_log_is_for_superusers_only(client, member):
    client.force_login(staff_with("members.view_user"))
    client.get(reverse("admin:members_user_change", args=[member.pk]))
    assert not PersonalDataAccess.objects.exists()
    client.force_login(staff_with("members.view_user", "members.view_personal_data"))
    client.get(reverse("admin:members_user_change", args=[member.pk]))
    assert client.get(reverse("admin:members_personaldataaccess_changelist")).status_code == 403
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:members_personaldataaccess_changelist"))
    assert response.status_code == 200 and f"会员 #{member.pk} {SECRET}" in body(response)
    access = PersonalDataAccess.objects.first()
    assert (
        client.post(reverse("admin:members_personaldataaccess_delete", args=[access.pk])).status_code == 403
    )


def test_points_adjust_page_says_whose_points_masked_without_the_permission(client, member):
    client.force_login(staff_with("members.view_pointsaccount", "members.add_pointsentry"))
    page = body(client.get(reverse("admin:members_points_adjust", args=[member.pk])))
    assert f"会员 #{member.pk}（h***@example.com）" in page and "hidden.person" not in page


def test_masked_staff_find_a_member_by_number_not_by_email(client, member):
    client.force_login(staff_with("members.view_user"))
    url = reverse("admin:members_user_changelist")
    assert list(client.get(url, {"q": str(member.pk)}).context_data["cl"].result_list) == [member]
    assert client.get(url, {"q": SECRET}).context_data["cl"].result_count == 0
