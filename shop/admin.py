"""Staff admin for the shop: catalogue, orders (state changes through the services), reviews, events."""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.csv_export import csv_response
from core.errors import DomainError
from core.masking import mask
from members.audit import audit_bulk_update
from members.masking import PersonalDataAdminMixin, can_view_personal_data
from shop.models import (
    AfterSale,
    AfterSaleLine,
    AfterSalePhoto,
    Brand,
    Category,
    Event,
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    Product,
    ProductImage,
    Refund,
    Review,
    Shipment,
    Tag,
)
from shop.selectors import catalogue_caches_forget
from shop.services.aftersales import (
    aftersale_decide,
    aftersale_goods_receive,
    aftersale_refund,
    order_refund_in_full,
)
from shop.services.fulfilment import shipment_create
from shop.services.notes import order_note_add
from shop.services.orders import order_cancel, order_complete, order_ship
from shop.services.reviews import review_approve, review_reject
from shop.timeline import order_timeline

admin.site.site_header = _("优选商城 管理后台")
admin.site.site_title = _("优选商城 管理后台")
admin.site.index_title = _("管理后台")


class StockFilter(admin.SimpleListFilter):
    title = _("库存")
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("out", _("缺货")), ("low", _("库存紧张")), ("ok", _("充足"))]

    def queryset(self, request, queryset):
        from django.conf import settings

        low = getattr(settings, "SHOP_LOW_STOCK", 5)
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lte=low)
        if self.value() == "ok":
            return queryset.filter(stock__gt=low)
        return queryset


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 1
    fields = ("image", "alt", "position")


class OptionalSlugMixin:
    """The slug may be left empty: the model's save() spells a Chinese name in pinyin (shop.slugs)."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "slug" in form.base_fields:
            form.base_fields["slug"].required = False
            form.base_fields["slug"].help_text = _("留空则按名称的拼音自动生成。")
        return form


@admin.register(Product)
class ProductAdmin(OptionalSlugMixin, admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "name",
        "sku",
        "category",
        "price",
        "stock",
        "sales_count",
        "rating_avg",
        "is_active",
    )
    list_display_links = ("thumbnail", "name")
    list_filter = ("is_active", StockFilter, "category", "brand")
    search_fields = ("name", "sku")
    list_select_related = ("category", "brand")
    list_per_page = 50
    prepopulated_fields = {"slug": ("sku",)}
    autocomplete_fields = ("category", "brand")
    filter_horizontal = ("tags",)
    readonly_fields = ("sales_count", "rating_avg", "rating_count", "created_at", "updated_at")
    inlines = [ProductImageInline]
    actions = ["activate", "deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("images")

    @admin.display(description=_("图片"))
    def thumbnail(self, product):
        images = list(product.images.all())
        if not images:
            return "—"
        return format_html('<img src="{}" alt="" width="48" height="48">', images[0].image.url)

    def _set_active(self, queryset, active: bool) -> int:
        # One UPDATE for the page, and one audit entry per product that really changed (update() sends no
        # signals, so auditlog would not see it).
        with transaction.atomic():
            changed = list(queryset.exclude(is_active=active).order_by("pk"))
            count = queryset.filter(pk__in=[p.pk for p in changed]).update(is_active=active)
            audit_bulk_update(changed, lambda product: {"is_active": (product.is_active, active)})
        catalogue_caches_forget()
        return count

    @admin.action(description=_("上架所选商品"), permissions=["change"])
    def activate(self, request, queryset):
        count = self._set_active(queryset, True)
        self.message_user(request, _("已上架 %(n)s 件商品。") % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("下架所选商品"), permissions=["change"])
    def deactivate(self, request, queryset):
        count = self._set_active(queryset, False)
        self.message_user(request, _("已下架 %(n)s 件商品。") % {"n": count}, messages.SUCCESS)

    # A product that shoppers have seen, carted or bought carries history the recommender, the orders
    # and the statistics need: it is taken off sale, not deleted. Staff are told why, not shown a 403.
    @staticmethod
    def _history(product_ids) -> dict:
        return {
            "events": Event.objects.filter(product_id__in=product_ids).count(),
            "order_lines": OrderLine.objects.filter(product_id__in=product_ids).count(),
        }

    def delete_view(self, request, object_id, extra_context=None):
        product = self.get_object(request, object_id)
        if product is not None and self.has_delete_permission(request, product):
            history = self._history([product.pk])
            if any(history.values()):
                if (
                    request.method == "POST"
                    and "deactivate" in request.POST
                    and self.has_change_permission(request, product)
                ):
                    self._set_active(Product.objects.filter(pk=product.pk), False)
                    self.message_user(
                        request, _("“%(name)s”已下架。") % {"name": product.name}, messages.SUCCESS
                    )
                    return redirect(reverse("admin:shop_product_change", args=[product.pk]))
                context = {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "product": product,
                    "history": history,
                    "can_change": self.has_change_permission(request, product),
                    "title": _("不能删除“%(name)s”") % {"name": product.name},
                }
                return TemplateResponse(request, "admin/shop/product/delete_refused.html", context)
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (
                ProductAdmin.delete_or_deactivate,
                "delete_selected",
                actions["delete_selected"][2],
            )
        return actions

    def delete_or_deactivate(self, request, queryset):
        """Django's bulk delete for products without history; those with history are taken off sale."""
        ids = list(queryset.values_list("pk", flat=True))
        with_history = set(
            Event.objects.filter(product_id__in=ids).values_list("product_id", flat=True)
        ) | set(OrderLine.objects.filter(product_id__in=ids).values_list("product_id", flat=True))
        if with_history:
            self._set_active(queryset.filter(pk__in=with_history), False)
            self.message_user(
                request,
                _("%(n)s 件商品有浏览或订单记录，已改为下架而不是删除。") % {"n": len(with_history)},
                messages.WARNING,
            )
        rest = queryset.exclude(pk__in=with_history)
        if rest.exists():
            return delete_selected(self, request, rest)
        return None


@admin.register(Category)
class CategoryAdmin(OptionalSlugMixin, admin.ModelAdmin):
    list_display = ("name", "parent", "slug", "position", "is_active", "product_count")
    list_filter = ("is_active", "parent")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("parent",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_total=Count("products"))

    @admin.display(description=_("商品数"), ordering="product_total")
    def product_count(self, category):
        return category.product_total

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        catalogue_caches_forget()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalogue_caches_forget()


@admin.register(Brand)
class BrandAdmin(OptionalSlugMixin, admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("product_name", "sku", "unit_price", "quantity", "line_total")
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ("from_status", "to_status", "changed_by", "note", "created_at")
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("reference", "provider", "amount", "status", "created_at", "updated_at")
    readonly_fields = fields


SHIP_CARRIERS = ["顺丰速运", "京东物流", "中通快递", "圆通速递", "申通快递", "韵达快递", "EMS", "极兔速递"]


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ("carrier", "tracking_number", "shipped_lines", "shipped_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("商品"))
    def shipped_lines(self, shipment):
        return "，".join(f"{row.order_line.product_name} × {row.quantity}" for row in shipment.lines.all())


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("reference", "after_sale", "amount", "status", "whole_order", "operator", "note", "created_at")
    readonly_fields = fields


def _order_action(service, done_message):
    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for order in queryset.order_by("pk"):
            try:
                service(order=order, by=request.user, note="admin")
                done += 1
            except DomainError as error:
                refused.append(f"{order.number}: {error.message}")
        if done:
            modeladmin.message_user(request, done_message % {"n": done}, messages.SUCCESS)
        for problem in refused:
            modeladmin.message_user(request, problem, messages.WARNING)

    return action


@admin.register(Order)
class OrderAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    # Recipient details show masked and read-only unless staff hold members.view_personal_data.
    personal_data_fields = {
        "user": "email",
        "recipient_name": "text",
        "phone": "phone",
        "district": "text",
        "address_line": "text",
        "postcode": "text",
    }
    list_display = ("number", "user", "status", "total", "created_at")
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("number", "user__email", "recipient_name", "phone")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    inlines = [OrderLineInline, ShipmentInline, PaymentInline, RefundInline, OrderStatusChangeInline]
    actions = ["mark_shipped", "mark_completed", "cancel", "refund", "export_csv"]
    change_form_template = "admin/shop/order/change_form.html"
    readonly_fields = (
        "number",
        "user",
        "status",
        "idempotency_key",
        "subtotal",
        "shipping_fee",
        "coupon_discount",
        "points_discount",
        "points_used",
        "total",
        "shipping_method",
        "created_at",
        "paid_at",
        "shipped_at",
        "received_at",
        "completed_at",
        "cancelled_at",
        "refunded_at",
        "ship_link",
    )

    def has_add_permission(self, request):
        return False  # orders come from checkouts

    def get_urls(self):
        from django.urls import path

        own = [
            path(
                "<int:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="shop_order_ship",
            ),
            path(
                "<int:object_id>/state/<slug:step>/",
                self.admin_site.admin_view(require_POST(self.state_view)),
                name="shop_order_state",
            ),
            path(
                "<int:object_id>/notes/",
                self.admin_site.admin_view(require_POST(self.note_view)),
                name="shop_order_note",
            ),
            path(
                "<int:object_id>/as-member-sees-it/",
                self.admin_site.admin_view(self.member_view),
                name="shop_order_member_view",
            ),
        ]
        return own + super().get_urls()

    # --- The order page: timeline, internal notes, state buttons, "view on site" ----------------------

    # The storefront's /orders/<number>/ answers only the order's owner (a 404 for staff), and a staff
    # session must not act there as the member: "view on site" opens a read-only admin page showing what
    # the member's order page shows, with the recipient masked as everywhere else for masked staff.
    def view_on_site(self, order):
        return reverse("admin:shop_order_member_view", args=[order.pk])

    # step -> (service, permission, button label, success message, statuses it applies to)
    STATE_STEPS = {
        "complete": (order_complete, "change", _("标记为已完成"), _("订单已完成。"), ("shipped", "received")),
        "cancel": (order_cancel, "change", _("取消订单"), _("订单已取消。"), ("pending_payment",)),
        "refund": (
            order_refund_in_full,
            "change",
            _("整单退款"),
            _("订单已退款。"),
            ("paid", "shipped", "received", "completed"),
        ),
    }

    def _may(self, request, permission, order=None):
        if permission == "ship":
            return self.has_ship_permission(request)
        return self.has_change_permission(request, order)

    def state_buttons(self, request, order):
        buttons = []
        if order.status == Order.Status.PAID and self.has_ship_permission(request):
            buttons.append(
                {"url": reverse("admin:shop_order_ship", args=[order.pk]), "label": _("填写运单发货")}
            )
        for step, (_service, permission, label, _done, statuses) in self.STATE_STEPS.items():
            if order.status in statuses and self._may(request, permission, order):
                buttons.append(
                    {
                        "step": step,
                        "url": reverse("admin:shop_order_state", args=[order.pk, step]),
                        "label": label,
                    }
                )
        return buttons

    def may_add_note(self, request, order):
        return self.has_change_permission(request, order) or self.has_ship_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        if order is not None and self.has_view_or_change_permission(request, order):
            extra_context = {
                **(extra_context or {}),
                "timeline": order_timeline(order),
                "state_buttons": self.state_buttons(request, order),
                "may_add_note": self.may_add_note(request, order),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def state_view(self, request, object_id, step):
        order = get_object_or_404(Order, pk=object_id)
        if step not in self.STATE_STEPS:
            return redirect("admin:shop_order_change", order.pk)
        service, permission, _label, done, statuses = self.STATE_STEPS[step]
        if not self._may(request, permission, order):
            raise PermissionDenied
        note = (request.POST.get("note") or "").replace("\x00", "").strip()[:200] or "admin"
        try:
            service(order=order, by=request.user, note=note)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:shop_order_change", order.pk)

    def note_view(self, request, object_id):
        order = get_object_or_404(Order, pk=object_id)
        if not self.may_add_note(request, order):
            raise PermissionDenied
        try:
            order_note_add(order=order, author=request.user, text=request.POST.get("text", ""))
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, _("备注已添加（仅员工可见）。"), messages.SUCCESS)
        return redirect("admin:shop_order_change", order.pk)

    def member_view(self, request, object_id):
        order = get_object_or_404(Order, pk=object_id)
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        unmasked = can_view_personal_data(request.user)
        if unmasked and order.user_id:
            self._record_access(request, [order.user_id], "member view")
        fields = [
            (
                Order._meta.get_field(name).verbose_name,
                getattr(order, name) if unmasked or kind is None else mask(getattr(order, name), kind),
            )
            for name, kind in (
                ("recipient_name", "text"),
                ("phone", "phone"),
                ("province", None),
                ("city", None),
                ("district", "text"),
                ("address_line", "text"),
                ("postcode", "text"),
            )
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "order": order,
            "recipient": fields,
            "lines": order.lines.all(),
            "shipments": order.shipments.prefetch_related("lines__order_line"),
            "title": _("会员看到的订单 %(number)s") % {"number": order.number},
        }
        return TemplateResponse(request, "admin/shop/order/member_view.html", context)

    # --- CSV export: masked unless staff may see personal data (then every member exported is logged) --

    ORDER_CSV_PERSONAL = (
        ("recipient_name", "text"),
        ("phone", "phone"),
        ("district", "text"),
        ("address_line", "text"),
        ("postcode", "text"),
    )

    # For those who handle orders (change): a bulk download is more than the warehouse's page-by-page view.
    @admin.action(description=_("导出所选订单（CSV）"), permissions=["change"])
    def export_csv(self, request, queryset):
        unmasked = can_view_personal_data(request.user)
        orders = list(queryset.select_related("user").order_by("pk"))
        if unmasked:
            self._record_access(request, [o.user_id for o in orders], "csv export")
        personal = dict(self.ORDER_CSV_PERSONAL)
        names = [
            "number",
            "status",
            "user",
            "total",
            "created_at",
            "paid_at",
            "shipped_at",
            "recipient_name",
            "phone",
            "province",
            "city",
            "district",
            "address_line",
            "postcode",
        ]
        header = [Order._meta.get_field(name).verbose_name for name in names]

        def cell(order, name):
            if name == "status":
                return order.get_status_display()
            if name == "user":
                email = order.user.email if order.user_id else ""
                return email if unmasked else mask(email, "email")
            value = getattr(order, name)
            if name in personal and not unmasked:
                return mask(value, personal[name])
            return value.isoformat() if hasattr(value, "isoformat") else value

        rows = ([cell(order, name) for name in names] for order in orders)
        return csv_response(filename="orders.csv", header=header, rows=rows)

    @admin.display(description=_("发货"))
    def ship_link(self, order):
        if order.pk is None or order.status != Order.Status.PAID:
            return "-"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:shop_order_ship", args=[order.pk]),
            _("填写运单发货"),
        )

    def ship_view(self, request, object_id):
        """Ship an order (or some of its lines) with a carrier and tracking number."""
        order = Order.objects.filter(pk=object_id).first()
        if order is None or not self.has_ship_permission(request):
            return redirect("admin:shop_order_changelist")
        shipped = set(Shipment.objects.filter(order=order).values_list("lines__order_line_id", flat=True))
        lines = [
            line
            for line in order.lines.all()
            if line.pk not in shipped and line.quantity > line.refunded_quantity
        ]
        if request.method == "POST":
            chosen = request.POST.getlist("lines")
            try:
                shipment_create(
                    order=order,
                    carrier=request.POST.get("carrier", ""),
                    tracking_number=request.POST.get("tracking_number", ""),
                    line_ids=None if not chosen or len(chosen) == len(lines) else chosen,
                    by=request.user,
                )
            except (DomainError, ValueError) as error:
                self.message_user(request, getattr(error, "message", str(error)), messages.ERROR)
            else:
                self.message_user(request, _("已发货。"), messages.SUCCESS)
                return redirect("admin:shop_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "order": order,
            "lines": lines,
            "carriers": SHIP_CARRIERS,
            "title": _("发货"),
        }
        return TemplateResponse(request, "admin/shop/order/ship.html", context)

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail stays

    def has_ship_permission(self, request):
        # The warehouse ships without the right to change anything else on an order (members.roles).
        return request.user.has_perm("shop.ship_order") or request.user.has_perm("shop.change_order")

    mark_shipped = admin.action(description=_("标记为已发货"), permissions=["ship"])(
        _order_action(order_ship, _("%(n)s 个订单已标记为已发货。"))
    )
    mark_completed = admin.action(description=_("标记为已完成"), permissions=["change"])(
        _order_action(order_complete, _("%(n)s 个订单已标记为已完成。"))
    )
    cancel = admin.action(description=_("取消订单（未付款）"), permissions=["change"])(
        _order_action(order_cancel, _("%(n)s 个订单已取消。"))
    )
    refund = admin.action(description=_("退款"), permissions=["change"])(
        _order_action(order_refund_in_full, _("%(n)s 个订单已退款。"))
    )


@admin.register(Review)
class ReviewAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    personal_data_fields = {"user": "email"}  # masked, and not searchable, without members.view_personal_data
    list_display = ("product", "user", "rating", "title", "status", "created_at", "edited_at", "moderated_by")
    list_filter = ("status", "rating")
    search_fields = ("product__name", "user__email", "title", "body")
    list_select_related = ("product", "user")
    readonly_fields = (
        "product",
        "user",
        "rating",
        "title",
        "body",
        "status",
        "created_at",
        "edited_at",
        "moderated_by",
        "moderated_at",
    )
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("通过所选评价"), permissions=["change"])
    def approve(self, request, queryset):
        for review in queryset.select_related("product"):
            review_approve(review=review, by=request.user)
        self.message_user(request, _("评价已通过。"), messages.SUCCESS)

    @admin.action(description=_("拒绝所选评价"), permissions=["change"])
    def reject(self, request, queryset):
        for review in queryset.select_related("product"):
            review_reject(review=review, by=request.user)
        self.message_user(request, _("评价已拒绝。"), messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(PersonalDataAdminMixin, ReadOnlyAdmin):
    personal_data_fields = {"user": "email"}  # masked, and not searchable, without members.view_personal_data
    list_display = ("created_at", "kind", "user", "session_key", "product", "query", "value")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("query", "user__email", "product__name", "session_key")
    list_select_related = ("user", "product")
    show_full_result_count = False  # counting a million events on every page is slow


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "order", "provider", "amount", "status", "created_at")
    list_filter = ("status", "provider")
    search_fields = ("reference", "order__number")
    list_select_related = ("order",)


class AfterSaleLineInline(ReadOnlyInline):
    model = AfterSaleLine
    fields = ("order_line", "quantity")
    readonly_fields = fields


class AfterSalePhotoInline(ReadOnlyInline):
    model = AfterSalePhoto
    fields = ("image",)
    readonly_fields = fields


class AfterSaleRefundInline(ReadOnlyInline):
    model = Refund
    fields = ("reference", "amount", "status", "provider_reference", "operator", "note", "created_at")
    readonly_fields = fields


@admin.register(AfterSale)
class AfterSaleAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    """Returns and refunds: staff approve or reject with a note, receive the goods, refund per line."""

    personal_data_fields = {"user": "email"}
    list_display = ("number", "order", "user", "kind", "status", "created_at", "decided_by")
    list_filter = ("status", "kind")
    search_fields = ("number", "order__number")
    list_select_related = ("order", "user", "decided_by")
    inlines = [AfterSaleLineInline, AfterSalePhotoInline, AfterSaleRefundInline]
    readonly_fields = (
        "number",
        "order",
        "user",
        "kind",
        "status",
        "reason",
        "staff_note",
        "decided_by",
        "decided_at",
        "goods_received_at",
        "refunded_at",
        "created_at",
        "process_link",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        from django.urls import path

        own = [
            path(
                "<int:object_id>/process/",
                self.admin_site.admin_view(self.process_view),
                name="shop_aftersale_process",
            )
        ]
        return own + super().get_urls()

    @admin.display(description=_("处理"))
    def process_link(self, after_sale):
        if after_sale.pk is None or not after_sale.is_open:
            return "-"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:shop_aftersale_process", args=[after_sale.pk]),
            _("审核 / 收货退款"),
        )

    def process_view(self, request, object_id):
        after_sale = AfterSale.objects.select_related("order").filter(pk=object_id).first()
        if after_sale is None or not self.has_change_permission(request, after_sale):
            return redirect("admin:shop_aftersale_changelist")
        if request.method == "POST":
            step, note = request.POST.get("step", ""), request.POST.get("note", "")
            try:
                if step == "approve":
                    aftersale_decide(after_sale=after_sale, approve=True, by=request.user, note=note)
                elif step == "reject":
                    aftersale_decide(after_sale=after_sale, approve=False, by=request.user, note=note)
                elif step == "receive":
                    aftersale_goods_receive(after_sale=after_sale, by=request.user, note=note)
                elif step == "refund":
                    aftersale_refund(after_sale=after_sale, by=request.user, note=note)
                else:
                    raise DomainError(_("请选择操作。"))
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("售后单已更新。"), messages.SUCCESS)
                return redirect("admin:shop_aftersale_change", after_sale.pk)
        after_sale.refresh_from_db()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "after_sale": after_sale,
            "rows": after_sale.lines.select_related("order_line"),
            "title": _("处理售后"),
        }
        return TemplateResponse(request, "admin/shop/aftersale/process.html", context)
