"""Member centre forms: profile, address, privacy; validation messages for the member."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.addresses import (
    ADDRESS_FIELDS,
    PHONE_INVALID,
    POSTCODE_INVALID,
    phone_normalise,
    postcode_normalise,
)
from members.models import Address, Profile

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "gender", "birth_date", "phone", "avatar"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_birth_date(self):
        birth_date = self.cleaned_data.get("birth_date")
        if birth_date and not (date(1900, 1, 1) <= birth_date <= date.today()):
            raise ValidationError(_("请输入有效的生日。"))
        return birth_date

    def clean_phone(self):
        value = (self.cleaned_data.get("phone") or "").strip()
        if not value:
            return ""
        phone = phone_normalise(value)
        if phone is None:
            raise ValidationError(PHONE_INVALID)
        return phone

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if not avatar or not hasattr(avatar, "image"):
            return avatar  # unchanged or cleared
        if avatar.size > AVATAR_MAX_BYTES:
            raise ValidationError(_("头像不能超过 2 MB。"))
        image_format = getattr(avatar.image, "format", None)
        if image_format not in AVATAR_FORMATS:
            raise ValidationError(_("头像只支持 JPEG、PNG、WebP 或 GIF 图片。"))
        return avatar


class AddressForm(forms.ModelForm):
    is_default = forms.BooleanField(label=_("设为默认地址"), required=False)

    class Meta:
        model = Address
        fields = list(ADDRESS_FIELDS)

    def clean_phone(self):
        phone = phone_normalise(self.cleaned_data.get("phone"))
        if phone is None:
            raise ValidationError(PHONE_INVALID)
        return phone

    def clean_postcode(self):
        postcode = postcode_normalise(self.cleaned_data.get("postcode"))
        if postcode is None:
            raise ValidationError(POSTCODE_INVALID)
        return postcode


class PersonalizationForm(forms.Form):
    personalization_enabled = forms.BooleanField(label=_("个性化推荐"), required=False)


class AccountDeleteForm(forms.Form):
    confirm = forms.CharField(label=_("请输入“注销”确认"), max_length=10)

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value not in {"注销", str(_("注销"))}:
            raise ValidationError(_("请输入“注销”以确认。"))
        return value
