"""Masking of personal data in staff screens, unless the staff member may see it (members.view_personal_data)."""

from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.db.models.constants import LOOKUP_SEP
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.masking import MASKERS, mask_text

PERSONAL_DATA_PERMISSION = "members.view_personal_data"
MANAGE_STAFF_PERMISSION = "members.manage_staff"

# Field names that hold personal data on any model: a URL filter on one (?phone__startswith=139,
# ?user__email__startswith=a) would recover a masked value a character at a time.
PERSONAL_FIELD_NAMES = frozenset(
    {
        "email",
        "username",
        "first_name",
        "last_name",
        "phone",
        "birth_date",
        "recipient_name",
        "address_line",
        "district",
        "postcode",
        "display_name",
    }
)


def can_view_personal_data(user) -> bool:
    return bool(user and user.is_active and user.has_perm(PERSONAL_DATA_PERMISSION))


def can_manage_staff(user) -> bool:
    """Superusers, or holders of members.manage_staff: staff flags, permissions, groups, staff passwords."""
    return bool(user and user.is_active and (user.is_superuser or user.has_perm(MANAGE_STAFF_PERMISSION)))


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
        if "user" in self.personal_data_fields:
            # A member's __str__ is their number; staff who may see personal data get the e-mail in lists.
            self.user_email = self._unmasked_member()

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

    def _unmasked_member(self):
        def display(obj):
            return getattr(obj.user, "email", "") if obj.user_id else ""

        display.short_description = self.model._meta.get_field("user").verbose_name
        display.admin_order_field = "user__email"
        return display

    def _mask_names(self, names):
        return [f"masked_{n}" if n in self.personal_data_fields else n for n in names]

    def get_list_display(self, request):
        names = super().get_list_display(request)
        if not can_view_personal_data(request.user):
            return self._mask_names(names)
        return ["user_email" if n == "user" and "user" in self.personal_data_fields else n for n in names]

    def get_fields(self, request, obj=None):
        names = super().get_fields(request, obj)
        return names if can_view_personal_data(request.user) else self._mask_names(names)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if can_view_personal_data(request.user):
            return fieldsets
        return [
            (title, {**options, "fields": self._mask_names(options.get("fields", ()))})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        names = list(super().get_readonly_fields(request, obj))
        if can_view_personal_data(request.user):
            return names
        return self._mask_names(names) + [
            f"masked_{n}" for n in self.personal_data_fields if f"masked_{n}" not in self._mask_names(names)
        ]

    def _masked_lookup_names(self):
        return PERSONAL_FIELD_NAMES | {name for name in self.personal_data_fields if name != "user"}

    def lookup_allowed(self, lookup, value, request=None):
        parts = set(lookup.split(LOOKUP_SEP))
        if "password" in parts:
            return False
        if (
            request is not None
            and not can_view_personal_data(request.user)
            and parts & self._masked_lookup_names()
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        try:
            response = super().changelist_view(request, extra_context)
        except DisallowedModelAdminLookup:
            return TemplateResponse(
                request,
                "admin/lookup_refused.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": LOOKUP_REFUSED,
                    "message": LOOKUP_REFUSED_HELP,
                },
                status=400,
            )
        cl = getattr(response, "context_data", None) and response.context_data.get("cl")
        if cl is not None and can_view_personal_data(request.user):
            # Evaluating the page here fills the queryset's cache: the template reuses it.
            self._record_access(request, [self._member_id(obj) for obj in cl.result_list], "changelist")
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add and can_view_personal_data(request.user):
            self._record_access(request, [self._member_id(obj)], "change")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _member_id(self, obj):
        from members.models import User

        return obj.pk if isinstance(obj, User) else getattr(obj, "user_id", None)

    def _record_access(self, request, member_ids, page_kind):
        from members.services.personal_data import personal_data_access_record

        personal_data_access_record(
            staff=request.user,
            member_ids=member_ids,
            view=f"{self.opts.app_label}.{self.opts.model_name} {page_kind}",
            page=request.get_full_path(),
        )

    def get_search_fields(self, request):
        names = super().get_search_fields(request)
        if can_view_personal_data(request.user):
            return names
        # Searching by a phone number would reveal whose it is.
        return [
            n
            for n in names
            if n.split("__")[-1] not in self.personal_data_fields
            and n.split("__")[-1] not in ("phone", "email")
        ] or names[:0]


LOOKUP_REFUSED = _("不能按个人信息筛选")
LOOKUP_REFUSED_HELP = _(
    "你没有“查看会员个人信息”权限，不能按手机、邮箱、姓名或地址筛选或查找。请按订单号、会员编号等条件查找。"
)
PERSONAL_DATA_HELP = _("手机、邮箱和地址已遮盖；需要“查看会员个人信息”权限才能看到。")
