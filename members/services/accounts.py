"""Accounts: what a new member gets, API tokens, profile changes and the address book."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from core.addresses import (
    ADDRESS_FIELDS,
    PHONE_INVALID,
    POSTCODE_INVALID,
    phone_normalise,
    postcode_normalise,
)
from core.errors import DomainError
from members.models import Address, PointsAccount, Profile

ADDRESS_LIMIT = 20


def member_onboard(*, user) -> Profile:
    """Profile, points account and signup gifts for a new member (safe to call twice)."""
    from members.services.coupons import coupons_signup_gift
    from members.services.points import points_signup_gift

    with transaction.atomic():
        profile, _created = Profile.objects.get_or_create(user=user)
        PointsAccount.objects.get_or_create(user=user)
        points_signup_gift(user=user)
        if not user.coupons.filter(source="signup").exists():
            coupons_signup_gift(user=user)
        return profile


def api_token_issue(*, request, email: str, password: str) -> Token:
    """The member's API token for e-mail + password, under the site's login rules (active account,
    verified e-mail when verification is mandatory); the same token until it is revoked."""
    user = authenticate(request, email=email, password=password)
    if user is None or not user.is_active:
        raise DomainError(_("邮箱或密码不正确。"), code="invalid_credentials")
    if (
        settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
        and not EmailAddress.objects.filter(user=user, verified=True).exists()
    ):
        raise DomainError(_("请先验证你的邮箱。"), code="email_unverified")
    token, _created = Token.objects.get_or_create(user=user)
    return token


def api_token_revoke(*, user) -> None:
    """Revoke `user`'s API token: every app signed in with it is signed out."""
    Token.objects.filter(user=user).delete()


def profile_for(user) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def profile_update(*, user, **fields) -> Profile:
    allowed = {"display_name", "gender", "birth_date", "phone", "avatar", "personalization_enabled"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=profile_for(user).pk)
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.full_clean()
        profile.save()
        return profile


def _phone_or_error(value) -> str:
    phone = phone_normalise(value)
    if phone is None:
        raise DomainError(PHONE_INVALID, code="invalid_phone", field="phone")
    return phone


def _postcode_or_error(value) -> str:
    postcode = postcode_normalise(value)
    if postcode is None:
        raise DomainError(POSTCODE_INVALID, code="invalid_postcode", field="postcode")
    return postcode


def address_save(*, user, address=None, is_default=False, **fields) -> Address:
    """Create or change one of `user`'s addresses; the first one, or is_default, becomes the default."""
    with transaction.atomic():
        if address is None:
            if Address.objects.filter(user=user).count() >= ADDRESS_LIMIT:
                raise DomainError(_("最多保存 %(n)s 个地址。") % {"n": ADDRESS_LIMIT}, code="address_limit")
            address = Address(user=user)
        elif address.user_id != user.pk:
            raise DomainError(_("没有找到这个地址。"), code="address_not_found")
        for name in ADDRESS_FIELDS:
            if name in fields:
                setattr(address, name, fields[name])
        address.phone = _phone_or_error(address.phone)
        address.postcode = _postcode_or_error(address.postcode)
        first = not Address.objects.filter(user=user).exclude(pk=address.pk).exists()
        make_default = is_default or first
        if make_default:
            Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
        if make_default:
            address.is_default = True
        address.full_clean()
        address.save()
        return address


def address_set_default(*, user, address_id) -> Address:
    with transaction.atomic():
        address = Address.objects.filter(user=user, pk=address_id).first()
        if address is None:
            raise DomainError(_("没有找到这个地址。"), code="address_not_found")
        Address.objects.filter(user=user, is_default=True).update(is_default=False)
        Address.objects.filter(pk=address.pk).update(is_default=True)
        address.is_default = True
        return address


def address_delete(*, user, address_id) -> None:
    with transaction.atomic():
        address = Address.objects.filter(user=user, pk=address_id).first()
        if address is None:
            raise DomainError(_("没有找到这个地址。"), code="address_not_found")
        was_default = address.is_default
        address.delete()
        if was_default:
            # The newest remaining address takes over, so checkout always has one to prefill.
            newest = Address.objects.filter(user=user).order_by("-created_at", "-id").first()
            if newest:
                Address.objects.filter(pk=newest.pk).update(is_default=True)
