"""Staff rights: only superusers or staff managers change staff flags, permissions, groups and staff
passwords; nobody raises their own rights (issue 12, item 1)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def perm(codename):
    app, code = codename.split(".")
    return Permission.objects.get(content_type__app_label=app, codename=code)


def staff_with(*codenames, **fields):
    staff = UserFactory(is_staff=True, **fields)
    staff.user_permissions.add(*[perm(c) for c in codenames])
    return staff


def change_form(user, **changes):
    """The POST body of the member change page, as the browser sends it, with `changes`."""
    data = {
        "email": user.email,
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": user.profile.pk,
        "profile-0-user": user.pk,
        "profile-0-display_name": "",
        "profile-0-gender": "",
        "profile-0-birth_date": "",
        "profile-0-phone": "",
        "profile-0-personalization_enabled": "on",
    }
    data.update(changes)
    return data


def test_staff_who_may_change_members_cannot_give_themselves_permissions(client):
    # given a customer-service member of staff allowed to change members
    staff = staff_with("members.view_user", "members.change_user", "members.change_profile")
    client.force_login(staff)
    url = reverse("admin:members_user_change", args=[staff.pk])
    # when they post their own page with the personal-data permission and superuser status
    client.post(
        url,
        change_form(
            staff, user_permissions=[perm("members.view_personal_data").pk], is_superuser="on", is_staff="on"
        ),
    )
    # then nothing changed
    staff.refresh_from_db()
    assert not staff.is_superuser
    assert not staff.has_perm("members.view_personal_data")


def test_staff_without_manager_right_cannot_make_a_member_staff(client):
    staff = staff_with("members.view_user", "members.change_user", "members.change_profile")
    member = UserFactory()
    client.force_login(staff)
    response = client.post(
        reverse("admin:members_user_change", args=[member.pk]),
        change_form(
            member,
            is_active="",
            is_staff="on",
            is_superuser="on",
            user_permissions=[perm("members.view_personal_data").pk],
        ),
    )
    assert response.status_code == 302  # the ordinary change (deactivating) went through
    member.refresh_from_db()
    assert not member.is_active
    assert not member.is_staff and not member.is_superuser and not member.user_permissions.exists()
    page = client.get(reverse("admin:members_user_change", args=[member.pk])).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page


def test_password_form_of_a_superuser_or_staff_member_is_forbidden_without_the_right(client):
    boss = UserFactory(is_staff=True, is_superuser=True)
    colleague = staff_with("members.view_user")
    member = UserFactory()
    client.force_login(staff_with("members.view_user", "members.change_user"))
    for account in (boss, colleague):
        url = reverse("admin:auth_user_password_change", args=[account.pk])
        assert client.get(url).status_code == 403
        response = client.post(
            url, {"password1": "Taken-over-123", "password2": "Taken-over-123", "usable_password": "true"}
        )
        assert response.status_code == 403
        account.refresh_from_db()
        assert not account.check_password("Taken-over-123")
        # nor can their e-mail be changed (a password reset would then reach the attacker)
        assert (
            client.post(
                reverse("admin:members_user_change", args=[account.pk]),
                change_form(account, email="evil@example.com"),
            ).status_code
            == 403
        )
    # an ordinary member's password can still be reset by customer service
    url = reverse("admin:auth_user_password_change", args=[member.pk])
    assert client.get(url).status_code == 200


def test_staff_cannot_delete_a_superuser_even_in_bulk(client):
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff_with("members.view_user", "members.change_user", "members.delete_user"))
    client.post(
        reverse("admin:members_user_changelist"),
        {"action": "delete_selected", "_selected_action": [boss.pk], "post": "yes"},
    )
    assert type(boss).objects.filter(pk=boss.pk).exists()


def test_staff_manager_grants_only_what_they_hold_and_never_superuser(client):
    manager = staff_with(
        "members.view_user", "members.change_user", "members.manage_staff", "shop.view_order"
    )
    member = UserFactory()
    client.force_login(manager)
    url = reverse("admin:members_user_change", args=[member.pk])
    # a permission the manager lacks is not among the choices: the form refuses it
    response = client.post(
        url,
        change_form(
            member, is_staff="on", is_superuser="on", user_permissions=[perm("members.view_personal_data").pk]
        ),
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert not member.is_staff and not member.user_permissions.exists()
    # what the manager holds, they may hand out; superuser status stays a superuser's decision
    response = client.post(
        url,
        change_form(member, is_staff="on", is_superuser="on", user_permissions=[perm("shop.view_order").pk]),
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_staff and not member.is_superuser
    assert list(member.user_permissions.all()) == [perm("shop.view_order")]


def test_manager_edit_keeps_rights_the_manager_cannot_see(client):
    manager = staff_with("members.view_user", "members.change_user", "members.manage_staff")
    colleague = staff_with("members.view_personal_data")
    client.force_login(manager)
    response = client.post(
        reverse("admin:members_user_change", args=[colleague.pk]),
        change_form(colleague, is_staff="on", last_name="同事"),
    )
    assert response.status_code == 302
    assert colleague.user_permissions.filter(codename="view_personal_data").exists()


def test_manager_cannot_change_own_rights_or_a_superuser(client):
    manager = staff_with(
        "members.view_user", "members.change_user", "members.manage_staff", "members.view_personal_data"
    )
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(manager)
    client.post(
        reverse("admin:members_user_change", args=[manager.pk]),
        change_form(manager, is_staff="on", is_superuser="on", user_permissions=[]),
    )
    manager.refresh_from_db()
    assert not manager.is_superuser and manager.has_perm("members.manage_staff")
    assert client.get(reverse("admin:auth_user_password_change", args=[boss.pk])).status_code == 403


def test_superuser_still_manages_staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    member = UserFactory()
    response = client.post(
        reverse("admin:members_user_change", args=[member.pk]),
        change_form(member, is_staff="on", user_permissions=[perm("members.view_personal_data").pk]),
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_staff and member.has_perm("members.view_personal_data")
    colleague = staff_with("members.view_user")
    assert client.get(reverse("admin:auth_user_password_change", args=[colleague.pk])).status_code == 200


def test_group_permissions_are_not_a_way_round(client):
    # a member of staff in a group, allowed to change groups but not a staff manager
    group = Group.objects.create(name="客服")
    staff = staff_with("auth.view_group", "auth.change_group")
    staff.groups.add(group)
    client.force_login(staff)
    client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "客服", "permissions": [perm("members.view_personal_data").pk]},
    )
    assert not group.permissions.exists()
    # a manager cannot widen a group they belong to either
    staff.user_permissions.add(perm("members.manage_staff"))
    client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "客服", "permissions": [perm("members.manage_staff").pk]},
    )
    assert not group.permissions.exists()
