"""Staff admin for membership: members with points and tier, the read-only ledger with adjustments,
coupon templates with counts and bulk issue, tiers and the earning rules."""

from allauth.account.models import EmailAddress
from auditlog.admin import LogEntryAdmin as AuditlogLogEntryAdmin
from auditlog.filters import ResourceTypeFilter
from auditlog.models import LogEntry as AuditLogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.csv_export import csv_response
from core.errors import DomainError
from core.masking import mask, mask_email
from members.masking import (
    PERSONAL_DATA_HELP,
    PersonalDataAdminMixin,
    can_manage_staff,
    can_view_personal_data,
)
from members.models import (
    Address,
    Campaign,
    Checkin,
    CheckinRules,
    Coupon,
    CouponRedemption,
    CouponTemplate,
    EarningRules,
    Favourite,
    PersonalDataAccess,
    PointsAccount,
    PointsEntry,
    Profile,
    Promotion,
    PromotionApplication,
    Reward,
    RewardExchange,
    StackingRules,
    Tier,
    User,
    coupon_template_targets_validate,
    member_label,
)
from members.roles import staff_roles_overview
from members.services.accounts import member_onboard
from members.services.campaigns import order_points_preview
from members.services.coupons import coupons_issue_to_segment
from members.services.points import points_staff_adjust
from shop.models import Order


class ProfileInline(PersonalDataAdminMixin, admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("display_name", "gender", "birth_date", "phone", "avatar", "personalization_enabled")
    personal_data_fields = {"phone": "phone", "birth_date": "text"}

    def get_list_display(self, request):  # inlines have no changelist
        return ()


# What makes an account staff and what it may do: only superusers or members.manage_staff change them.
STAFF_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def held_permissions(user):
    """The permissions `user` holds (directly or through groups): all a non-superuser manager may hand out."""
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).distinct()


def grantable_groups(user):
    """Groups whose every permission `user` holds: giving one grants nothing more than they have."""
    return Group.objects.exclude(permissions__in=Permission.objects.exclude(pk__in=held_permissions(user)))


def may_change_account(request, account) -> bool:
    """A superuser's account is for superusers; any other staff account is for staff managers."""
    if account is None:
        return True
    if account.is_superuser:
        return request.user.is_superuser
    if account.is_staff:
        return can_manage_staff(request.user)
    return True


@admin.register(User)
class MemberAdmin(PersonalDataAdminMixin, DjangoUserAdmin):
    list_display = ("email", "tier", "points_available", "points_pending", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "points_account__tier")
    # By member number too: the one way staff without the personal-data permission can find a member.
    search_fields = ("id__exact", "email", "username")
    ordering = ("-date_joined",)
    list_select_related = ("points_account__tier",)
    inlines = [ProfileInline]
    personal_data_fields = {"email": "email", "username": "email", "first_name": "text", "last_name": "text"}
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        (_("个人信息"), {"fields": ("first_name", "last_name")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    change_form_template = "admin/members/user/change_form.html"
    actions = ["export_csv"]

    # --- The member page: orders, points, coupons, addresses and tier in one place ---------------------

    OVERVIEW_ORDERS = 10
    OVERVIEW_LEDGER = 10
    # Masked exactly as AddressAdmin masks them (members.masking) for staff without the permission.
    ADDRESS_PERSONAL = {
        "recipient_name": "text",
        "phone": "phone",
        "district": "text",
        "address_line": "text",
        "postcode": "text",
    }

    def member_overview(self, request, member) -> dict:
        unmasked = can_view_personal_data(request.user)

        def shown(obj, name):
            value = getattr(obj, name) or ""
            kind = self.ADDRESS_PERSONAL.get(name)
            return value if unmasked or kind is None else mask(value, kind)

        account = PointsAccount.objects.select_related("tier").filter(user=member).first()
        addresses = [
            {
                "is_default": address.is_default,
                "fields": [
                    shown(address, n)
                    for n in (
                        "recipient_name",
                        "phone",
                        "province",
                        "city",
                        "district",
                        "address_line",
                        "postcode",
                    )
                ],
            }
            for address in Address.objects.filter(user=member)
        ]
        return {
            "overview_orders": list(
                Order.objects.filter(user=member).order_by("-created_at", "-id")[: self.OVERVIEW_ORDERS]
            ),
            "overview_order_count": Order.objects.filter(user=member).count(),
            "overview_may_open_orders": request.user.has_perm("shop.view_order"),
            "overview_account": account,
            "overview_ledger": list(
                PointsEntry.objects.filter(user=member).order_by("-created_at", "-id")[: self.OVERVIEW_LEDGER]
            ),
            "overview_coupons": list(
                Coupon.objects.filter(user=member, status=Coupon.Status.AVAILABLE).select_related("template")
            ),
            "overview_addresses": addresses,
            "overview_masked": not unmasked,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        member = self.get_object(request, object_id)
        if member is not None and self.has_view_or_change_permission(request, member):
            extra_context = {**(extra_context or {}), **self.member_overview(request, member)}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- CSV export: masked unless staff may see personal data (then every member exported is logged) --

    @admin.action(description=_("导出所选会员（CSV）"), permissions=["view"])
    def export_csv(self, request, queryset):
        unmasked = can_view_personal_data(request.user)
        members = list(
            queryset.select_related("points_account__tier", "profile")
            .prefetch_related("addresses")
            .order_by("pk")
        )
        if unmasked:
            self._record_access(request, [m.pk for m in members], "csv export")

        def hide(value, kind):
            return (value or "") if unmasked else mask(value or "", kind)

        header = [
            _("会员编号"),
            _("邮箱"),
            _("姓名"),
            _("手机"),
            _("会员等级"),
            _("可用积分"),
            _("待入账积分"),
            _("默认收货地址"),
            _("启用"),
            _("注册时间"),
        ]
        rows = []
        for member in members:
            account = getattr(member, "points_account", None)
            profile = getattr(member, "profile", None)
            address = next((a for a in member.addresses.all() if a.is_default), None)
            place = (
                " ".join(
                    [
                        address.province,
                        address.city,
                        hide(address.district, "text"),
                        hide(address.address_line, "text"),
                    ]
                )
                if address
                else ""
            )
            name = " ".join(filter(None, [member.last_name, member.first_name]))
            rows.append(
                [
                    member.pk,
                    hide(member.email, "email"),
                    hide(name, "text"),
                    hide(getattr(profile, "phone", ""), "phone"),
                    account.tier.name if account and account.tier else "",
                    account.available if account else 0,
                    account.pending if account else 0,
                    place,
                    _("是") if member.is_active else _("否"),
                    member.date_joined.isoformat(),
                ]
            )
        return csv_response(filename="members.csv", header=header, rows=rows)

    @admin.display(description=_("会员等级"), ordering="points_account__tier__position")
    def tier(self, obj):
        account = getattr(obj, "points_account", None)
        return account.tier if account and account.tier else "-"

    @admin.display(description=_("可用积分"), ordering="points_account__available")
    def points_available(self, obj):
        account = getattr(obj, "points_account", None)
        return account.available if account else 0

    @admin.display(description=_("待入账积分"), ordering="points_account__pending")
    def points_pending(self, obj):
        account = getattr(obj, "points_account", None)
        return account.pending if account else 0

    def changelist_view(self, request, extra_context=None):
        if not can_view_personal_data(request.user):
            self.message_user(request, PERSONAL_DATA_HELP, messages.INFO)
        return super().changelist_view(request, extra_context)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the profile is made by onboarding, below

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # An account added here is the one signup makes: username, profile, points account, signup gifts,
        # and the allauth address (verified: staff typed it) so the member can sign in at once.
        obj.username = obj.username or obj.email
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            member_onboard(user=obj)
            EmailAddress.objects.update_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )

    # --- Who may change staff accounts (the password view asks has_change_permission too) ------------

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_change_account(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_change_account(request, obj)

    def get_readonly_fields(self, request, obj=None):
        names = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk or not can_manage_staff(request.user):
            # Nobody raises their own rights, and only managers change anyone's.
            locked = STAFF_FIELDS
        else:
            locked = () if request.user.is_superuser else ("is_superuser",)
        return names + [name for name in locked if name not in names]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            if db_field.name == "user_permissions":
                kwargs["queryset"] = held_permissions(request.user).select_related("content_type")
            elif db_field.name == "groups":
                kwargs["queryset"] = grantable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        # A manager's form offers only what they hold; rights the account has beyond that stay as they were.
        kept = {}
        if change and not request.user.is_superuser:
            account = form.instance
            if "user_permissions" in form.fields:
                kept["user_permissions"] = list(
                    account.user_permissions.exclude(pk__in=held_permissions(request.user))
                )
            if "groups" in form.fields:
                kept["groups"] = list(account.groups.exclude(pk__in=grantable_groups(request.user)))
        super().save_related(request, form, formsets, change)
        for name, rows in kept.items():
            if rows:
                getattr(form.instance, name).add(*rows)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PointsAdjustForm(forms.Form):
    delta = forms.IntegerField(label=_("调整积分（负数为扣减）"))
    note = forms.CharField(label=_("原因"), max_length=200)

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(_("调整数量不能为 0。"))
        if abs(delta) > 1_000_000:
            raise forms.ValidationError(_("单次调整不能超过 1,000,000 积分。"))
        return delta


@admin.register(PointsAccount)
class PointsAccountAdmin(PersonalDataAdminMixin, ReadOnlyModelAdmin):
    list_display = ("user", "available", "pending", "tier", "spend_12m", "updated_at", "adjust_link")
    list_filter = ("tier",)
    search_fields = ("user__email",)
    list_select_related = ("user", "tier")
    ordering = ("-available",)
    personal_data_fields = {"user": "email"}

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("members.view_pointsaccount") or request.user.has_perm(
            "members.view_pointsentry"
        )

    @admin.display(description=_("调整"))
    def adjust_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:members_points_adjust", args=[obj.user_id]), _("调整积分")
        )

    def get_urls(self):
        return [
            path(
                "adjust/<int:user_id>/",
                self.admin_site.admin_view(self.adjust_view),
                name="members_points_adjust",
            )
        ] + super().get_urls()

    def adjust_view(self, request, user_id):
        if not request.user.has_perm("members.add_pointsentry"):
            messages.error(request, _("你没有调整积分的权限。"))
            return redirect("admin:members_pointsaccount_changelist")
        member = get_object_or_404(User, pk=user_id)
        form = PointsAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                points_staff_adjust(
                    user=member,
                    delta=form.cleaned_data["delta"],
                    staff=request.user,
                    note=form.cleaned_data["note"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, _("积分已调整。"), messages.SUCCESS)
                return redirect("admin:members_pointsaccount_changelist")
        account = PointsAccount.objects.filter(user=member).first()
        if can_view_personal_data(request.user):
            email = member.email
            self._record_access(request, [member.pk], "adjust")
        else:
            email = mask_email(member.email)
        return render(
            request,
            "members/admin/points_adjust.html",
            {
                **self.admin_site.each_context(request),
                "title": _("调整积分"),
                "form": form,
                "member_id": member.pk,
                "member_name": f"{member_label(member.pk)}（{email}）",
                "account": account,
                "opts": self.model._meta,
            },
        )


@admin.register(PointsEntry)
class PointsEntryAdmin(PersonalDataAdminMixin, ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "user",
        "reason",
        "available_delta",
        "pending_delta",
        "available_after",
        "pending_after",
        "order",
        "staff",
        "note",
    )
    list_filter = ("reason", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "order__number", "note")
    list_select_related = ("user", "order", "staff")
    date_hierarchy = "created_at"
    personal_data_fields = {"user": "email"}


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = (
        "position",
        "name",
        "code",
        "min_spend",
        "points_multiplier",
        "member_price_percent",
        "birthday_multiplier",
    )
    filter_horizontal = ("member_price_categories",)
    list_display_links = ("name",)
    ordering = ("position",)


@admin.register(EarningRules)
class EarningRulesAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "points_per_yuan",
        "first_order_bonus",
        "review_points",
        "return_window_days",
        "expiry_days",
        "redeem_points_per_yuan",
        "redeem_max_share",
        "updated_at",
    )

    def has_add_permission(self, request):
        return not EarningRules.objects.exists()  # a singleton

    def has_delete_permission(self, request, obj=None):
        return False


class CouponIssueForm(forms.Form):
    SEGMENT_CHOICES = [
        ("all", _("全部会员")),
        ("tier", _("指定等级")),
        ("inactive_90d", _("90天未活跃的会员")),
    ]
    segment = forms.ChoiceField(label=_("会员分组"), choices=SEGMENT_CHOICES)
    tier = forms.ModelChoiceField(label=_("等级"), queryset=Tier.objects.all(), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("segment") == "tier" and not cleaned.get("tier"):
            self.add_error("tier", _("请选择会员等级。"))
        return cleaned


class CouponTemplateForm(forms.ModelForm):
    """The model's clean() checks the fields; the scope's targets are many-to-many, so checked here."""

    class Meta:
        model = CouponTemplate
        fields = (
            "name",
            "description",
            "is_active",
            "kind",
            "amount",
            "max_discount",
            "min_spend",
            "stackable_with_points",
            "valid_from",
            "valid_until",
            "valid_days",
            "scope",
            "categories",
            "products",
            "min_tier",
            "total_quantity",
            "per_member_limit",
            "code",
            "is_claimable",
            "is_signup_gift",
            "is_birthday_gift",
            "is_personalised",
        )

    def clean(self):
        cleaned = super().clean()
        if "scope" in cleaned and "categories" in self.fields and "products" in self.fields:
            try:
                coupon_template_targets_validate(
                    scope=cleaned["scope"],
                    categories=cleaned.get("categories"),
                    products=cleaned.get("products"),
                )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    self.add_error(field, problems)
        return cleaned


@admin.register(CouponTemplate)
class CouponTemplateAdmin(admin.ModelAdmin):
    form = CouponTemplateForm
    list_display = (
        "name",
        "label_display",
        "code",
        "scope",
        "min_tier",
        "valid_until",
        "total_quantity",
        "issued",
        "redeemed",
        "is_active",
    )
    list_filter = (
        "is_active",
        "kind",
        "scope",
        "is_claimable",
        "is_signup_gift",
        "is_birthday_gift",
        "is_personalised",
    )
    search_fields = ("name", "code")
    filter_horizontal = ("categories", "products")
    readonly_fields = ("issued_count", "redeemed_count")
    actions = ["issue_to_segment"]
    list_select_related = ("min_tier",)
    fieldsets = (
        (None, {"fields": ("name", "description", "is_active")}),
        (_("优惠"), {"fields": ("kind", "amount", "max_discount", "min_spend", "stackable_with_points")}),
        (_("有效期"), {"fields": ("valid_from", "valid_until", "valid_days")}),
        (
            _("范围与限制"),
            {
                "fields": (
                    "scope",
                    "categories",
                    "products",
                    "min_tier",
                    "total_quantity",
                    "per_member_limit",
                    "issued_count",
                    "redeemed_count",
                )
            },
        ),
        (
            _("获取方式"),
            {"fields": ("code", "is_claimable", "is_signup_gift", "is_birthday_gift", "is_personalised")},
        ),
    )

    def get_queryset(self, request):
        # Counted in one query for the whole page (no query per row).
        return (
            super()
            .get_queryset(request)
            .annotate(
                issued_n=Count("coupons", distinct=True),
                redeemed_n=Count(
                    "coupons__redemptions",
                    filter=Q(coupons__redemptions__reversed_at__isnull=True),
                    distinct=True,
                ),
            )
        )

    @admin.display(description=_("面额"))
    def label_display(self, obj):
        return obj.label

    @admin.display(description=_("已发放"), ordering="issued_n")
    def issued(self, obj):
        return obj.issued_n

    @admin.display(description=_("已使用"), ordering="redeemed_n")
    def redeemed(self, obj):
        return obj.redeemed_n

    @admin.action(description=_("发放给会员分组"), permissions=["change"])
    def issue_to_segment(self, request, queryset):
        templates = list(queryset[:2])
        if len(templates) != 1:
            self.message_user(request, _("请只选择一个优惠券模板。"), messages.WARNING)
            return None
        return redirect("admin:members_coupon_issue", templates[0].pk)

    def get_urls(self):
        return [
            path(
                "<int:template_id>/issue/",
                self.admin_site.admin_view(self.issue_view),
                name="members_coupon_issue",
            )
        ] + super().get_urls()

    def issue_view(self, request, template_id):
        if not request.user.has_perm("members.add_coupon"):
            messages.error(request, _("你没有发放优惠券的权限。"))
            return redirect("admin:members_coupontemplate_changelist")
        template = get_object_or_404(CouponTemplate, pk=template_id)
        form = CouponIssueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            issued, skipped = coupons_issue_to_segment(
                template=template,
                segment=form.cleaned_data["segment"],
                tier=form.cleaned_data.get("tier"),
                staff=request.user,
            )
            self.message_user(
                request,
                _("已发放 %(issued)s 张，跳过 %(skipped)s 位会员（已达上限或已领完）。")
                % {"issued": issued, "skipped": skipped},
                messages.SUCCESS,
            )
            return redirect("admin:members_coupontemplate_changelist")
        return render(
            request,
            "members/admin/coupon_issue.html",
            {
                **self.admin_site.each_context(request),
                "title": _("发放优惠券"),
                "form": form,
                "template": template,
                "opts": self.model._meta,
            },
        )


@admin.register(Coupon)
class CouponAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    list_display = ("code", "template", "user", "status", "source", "valid_until", "issued_by", "issued_at")
    list_filter = ("status", "source", "template")
    search_fields = ("code", "template__name")
    list_select_related = ("template", "user", "issued_by")
    readonly_fields = (
        "template",
        "user",
        "code",
        "source",
        "issued_by",
        "issue_key",
        "issued_at",
        "used_at",
        "status",
    )
    fields = (
        "template",
        "user",
        "code",
        "status",
        "source",
        "valid_from",
        "valid_until",
        "issued_by",
        "issue_key",
        "issued_at",
        "used_at",
    )
    personal_data_fields = {"user": "email"}

    def has_add_permission(self, request):
        return False  # issued through templates (claim, gifts, bulk issue)


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyModelAdmin):
    list_display = ("coupon", "order", "discount", "created_at", "reversed_at")
    search_fields = ("coupon__code", "order__number")
    list_select_related = ("coupon", "order")


@admin.register(Address)
class AddressAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    list_display = ("user", "recipient_name", "phone", "province", "city", "address_line", "is_default")
    list_select_related = ("user",)
    personal_data_fields = {
        "user": "email",
        "recipient_name": "text",
        "phone": "phone",
        "district": "text",
        "address_line": "text",
        "postcode": "text",
    }


@admin.register(Favourite)
class FavouriteAdmin(PersonalDataAdminMixin, ReadOnlyModelAdmin):
    list_display = ("user", "product", "created_at")
    list_select_related = ("user", "product")
    personal_data_fields = {"user": "email"}


admin.site.unregister(Group)


@admin.register(Group)
class StaffGroupAdmin(DjangoGroupAdmin):
    """Groups carry permissions: only staff managers edit them, never a group they belong to, and a
    manager who is not a superuser hands out only permissions they hold."""

    def has_add_permission(self, request):
        return super().has_add_permission(request) and can_manage_staff(request.user)

    def has_change_permission(self, request, obj=None):
        if not (super().has_change_permission(request, obj) and can_manage_staff(request.user)):
            return False
        return obj is None or request.user.is_superuser or not request.user.groups.filter(pk=obj.pk).exists()

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj) and super().has_delete_permission(request, obj)

    def get_urls(self):
        return [
            path(
                "who-has-what/",
                self.admin_site.admin_view(self.who_has_what_view),
                name="auth_group_who_has_what",
            )
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "show_who_has_what": request.user.is_superuser}
        return super().changelist_view(request, extra_context)

    def who_has_what_view(self, request):
        """Superusers only: every group's permissions and staff, and each staff member's direct grants."""
        if not request.user.is_superuser:
            raise PermissionDenied
        return render(
            request,
            "admin/auth/group/who_has_what.html",
            {
                **self.admin_site.each_context(request),
                "title": _("员工权限一览"),
                "opts": self.model._meta,
                **staff_roles_overview(),
            },
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "permissions" and not request.user.is_superuser:
            kwargs["queryset"] = held_permissions(request.user).select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        kept = []
        if change and not request.user.is_superuser:
            kept = list(form.instance.permissions.exclude(pk__in=held_permissions(request.user)))
        super().save_related(request, form, formsets, change)
        if kept:
            form.instance.permissions.add(*kept)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyModelAdmin):
    """The PIPL trail of who saw whose unmasked personal data; superusers only, read-only."""

    list_display = ("created_at", "staff_display", "member_display", "view", "page")
    list_filter = ("view", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=member_number", "=staff_number")
    list_select_related = ("staff", "member")
    date_hierarchy = "created_at"
    fields = ("created_at", "staff_display", "member_display", "view", "page")
    readonly_fields = fields

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("员工"), ordering="staff_number")
    def staff_display(self, access):
        return f"{member_label(access.staff_number)} {access.staff.email if access.staff else ''}".strip()

    @admin.display(description=_("会员"), ordering="member_number")
    def member_display(self, access):
        return f"{member_label(access.member_number)} {access.member.email if access.member else ''}".strip()


# --- The audit trail (django-auditlog): read-only, actors named by number, personal values never stored ---

admin.site.unregister(AuditLogEntry)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(AuditlogLogEntryAdmin):
    """Who changed what in the admin (and through the services it calls): read-only for everybody."""

    list_display = ["created", "resource_url", "action", "changed_fields", "user_url"]
    list_filter = ["action", ResourceTypeFilter]
    # Not by the changes' text or the actor's e-mail: a search would be a lookup on personal data.
    search_fields = ["object_repr", "=object_pk", "=actor__id"]

    def has_delete_permission(self, request, obj=None):
        return False  # the trail stays, also when its subject is deleted

    @admin.display(description=_("变更的字段"))
    def changed_fields(self, entry):
        if entry.action == AuditLogEntry.Action.DELETE:
            return "—"
        return "、".join(str(name) for name in entry.changes_dict)


# ---- check-in, points mall, promotions (issue 15): staff configure; model clean() validates --------


class SingletonAdmin(admin.ModelAdmin):
    """One row of settings: added once, never deleted."""

    def has_add_permission(self, request):
        return not self.model.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CheckinRules)
class CheckinRulesAdmin(SingletonAdmin):
    list_display = (
        "__str__",
        "daily_points",
        "streak_bonuses",
        "makeup_enabled",
        "makeup_cost",
        "updated_at",
    )


@admin.register(StackingRules)
class StackingRulesAdmin(SingletonAdmin):
    list_display = ("__str__", "promotion_with_coupon", "promotion_with_points", "updated_at")
    readonly_fields = ("explanation",)

    @admin.display(description=_("结算页说明"))
    def explanation(self, obj):
        return obj.explanation


@admin.register(Checkin)
class CheckinAdmin(PersonalDataAdminMixin, ReadOnlyModelAdmin):
    list_display = ("user", "date", "streak", "points", "is_makeup", "created_at")
    list_filter = ("is_makeup", "date")
    list_select_related = ("user",)
    date_hierarchy = "date"
    personal_data_fields = {"user": "email"}


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "coupon_template",
        "points_price",
        "stock",
        "per_member_limit",
        "valid_from",
        "valid_until",
        "is_active",
        "exchanged",
    )
    list_editable = ("is_active",)
    list_filter = ("is_active",)
    search_fields = ("name",)
    autocomplete_fields = ("coupon_template",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(exchange_count=Count("exchanges"))

    @admin.display(description=_("已兑换"), ordering="exchange_count")
    def exchanged(self, obj):
        return obj.exchange_count


@admin.register(RewardExchange)
class RewardExchangeAdmin(PersonalDataAdminMixin, ReadOnlyModelAdmin):
    list_display = ("created_at", "user", "reward", "points", "coupon")
    list_filter = ("reward",)
    list_select_related = ("user", "reward", "coupon")
    personal_data_fields = {"user": "email"}


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "label",
        "kind",
        "threshold",
        "amount",
        "max_discount",
        "starts_at",
        "ends_at",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    list_editable = ("is_active",)
    search_fields = ("name",)
    filter_horizontal = ("categories",)

    @admin.display(description=_("规则"))
    def label(self, obj):
        return obj.label


@admin.register(PromotionApplication)
class PromotionApplicationAdmin(ReadOnlyModelAdmin):
    list_display = ("order", "promotion", "discount", "created_at")
    list_select_related = ("order", "promotion")
    search_fields = ("order__number",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "multiplier", "starts_at", "ends_at", "is_active")
    list_filter = ("is_active",)
    filter_horizontal = ("categories",)
    change_list_template = "members/admin/campaign_changelist.html"

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="members_campaign_preview",
            )
        ] + super().get_urls()

    def preview_view(self, request):
        """How many points would this order earn, and why (tier, campaigns, first-order bonus)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        number = (request.GET.get("order") or "").strip()
        order = Order.objects.filter(number=number).first() if number else None
        return render(
            request,
            "members/admin/campaign_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": _("积分预览"),
                "number": number,
                "order": order,
                "preview": order_points_preview(order=order) if order and order.user_id else None,
            },
        )
