"""Masking of personal data in staff screens, unless the staff member may see it (members.view_personal_data)."""
from django.utils.translation import gettext_lazy as _

from core.masking import MASKERS, mask_text

PERSONAL_DATA_PERMISSION = "members.view_personal_data"


def can_view_personal_data(user) -> bool:
    return bool(user and user.is_active and user.has_perm(PERSONAL_DATA_PERMISSION))


class PersonalDataAdminMixin:
    """ModelAdmin mixin: fields in `personal_data_fields` show masked and read-only without the permission.

    `personal_data_fields` maps a field name (or "user" for the member FK) to a masking kind:
    "phone", "email" or "text".
    """

    personal_data_fields: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kind in self.personal_data_fields.items():
            setattr(self, f"masked_{name}", self._masked_display(name, kind))

    def _masked_display(self, name, kind):
        mask = MASKERS.get(kind, mask_text)

        def display(obj):
            value = getattr(obj, name, "")
            if name == "user":
                value = getattr(value, "email", "") if value else ""
            return mask(value or "")
        try:
            label = self.model._meta.get_field(name).verbose_name
        except Exception:
            label = name
        display.short_description = label
        return display

    def _mask_names(self, names):
        return [f"masked_{n}" if n in self.personal_data_fields else n for n in names]

    def get_list_display(self, request):
        names = super().get_list_display(request)
        return names if can_view_personal_data(request.user) else self._mask_names(names)

    def get_fields(self, request, obj=None):
        names = super().get_fields(request, obj)
        return names if can_view_personal_data(request.user) else self._mask_names(names)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if can_view_personal_data(request.user):
            return fieldsets
        return [(title, {**options, "fields": self._mask_names(options.get("fields", ()))})
                for title, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        names = list(super().get_readonly_fields(request, obj))
        if can_view_personal_data(request.user):
            return names
        return self._mask_names(names) + [f"masked_{n}" for n in self.personal_data_fields
                                          if f"masked_{n}" not in self._mask_names(names)]

    def get_search_fields(self, request):
        names = super().get_search_fields(request)
        if can_view_personal_data(request.user):
            return names
        # Searching by a phone number would reveal whose it is.
        return [n for n in names if n.split("__")[-1] not in self.personal_data_fields
                and n.split("__")[-1] not in ("phone", "email")] or names[:0]


PERSONAL_DATA_HELP = _("手机、邮箱和地址已遮盖；需要“查看会员个人信息”权限才能看到。")
