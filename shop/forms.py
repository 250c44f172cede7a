"""Storefront forms: they read and check input; the services do the work."""

import uuid
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.addresses import PHONE_INVALID, POSTCODE_INVALID, phone_normalise, postcode_normalise
from shop.selectors import SORTS
from shop.services.cart import MAX_QUANTITY_PER_LINE

SORT_LABELS = {
    "newest": _("最新上架"),
    "bestselling": _("销量优先"),
    "price_asc": _("价格从低到高"),
    "price_desc": _("价格从高到低"),
    "rating": _("评分最高"),
}


class ListingFilterForm(forms.Form):
    """Filters and sort of a category or search listing; bad values are dropped, never a 500."""

    min_price = forms.DecimalField(
        label=_("最低价"), required=False, min_value=Decimal("0"), max_digits=10, decimal_places=2
    )
    max_price = forms.DecimalField(
        label=_("最高价"), required=False, min_value=Decimal("0"), max_digits=10, decimal_places=2
    )
    brand = forms.MultipleChoiceField(label=_("品牌"), required=False, widget=forms.CheckboxSelectMultiple)
    in_stock = forms.BooleanField(label=_("仅看有货"), required=False)
    sort = forms.ChoiceField(
        label=_("排序"), required=False, choices=[(key, SORT_LABELS[key]) for key in SORTS]
    )

    def __init__(self, *args, brands=(), default_sort="newest", **kwargs):
        super().__init__(*args, **kwargs)
        self.default_sort = default_sort
        self.fields["brand"].choices = [(b.slug, b.name) for b in brands]
        self.fields["sort"].initial = default_sort
        if self.is_bound and not self.data.get("sort"):
            # Show the order actually applied, not the first choice of the list.
            self.data = self.data.copy()
            self.data["sort"] = default_sort

    def filters(self) -> dict:
        """The valid filters as keyword arguments for shop.selectors.products_filter."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "min_price": data.get("min_price") if "min_price" not in self.errors else None,
            "max_price": data.get("max_price") if "max_price" not in self.errors else None,
            "brand_slugs": data.get("brand") or () if "brand" not in self.errors else (),
            "in_stock": bool(data.get("in_stock")),
            "sort": data.get("sort") or self.default_sort,
        }


class SearchFilterForm(ListingFilterForm):
    """The search page's filters: the listing's, plus relevance (its default order) and a category facet."""

    category = forms.SlugField(required=False, max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_sort", "relevance")
        super().__init__(*args, **kwargs)
        self.fields["sort"].choices = [("relevance", _("相关度")), *self.fields["sort"].choices]

    def filters(self) -> dict:
        filters = super().filters()
        if self.fields["sort"].choices and filters["sort"] not in dict(self.fields["sort"].choices):
            filters["sort"] = self.default_sort
        return filters

    def category_slug(self) -> str:
        return (getattr(self, "cleaned_data", {}) or {}).get("category") or ""


class AddToCartForm(forms.Form):
    product_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    quantity = forms.IntegerField(
        label=_("数量"),
        min_value=1,
        max_value=MAX_QUANTITY_PER_LINE,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "qty-input"}),
        error_messages={"invalid": _("数量必须是整数。")},
    )


class CartQuantityForm(forms.Form):
    product_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    quantity = forms.IntegerField(
        label=_("数量"),
        min_value=0,
        max_value=MAX_QUANTITY_PER_LINE,
        widget=forms.NumberInput(attrs={"class": "qty-input"}),
        error_messages={"invalid": _("数量必须是整数。")},
    )


class CartRemoveForm(forms.Form):
    product_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _phone_field(value) -> str:
    phone = phone_normalise(value)
    if phone is None:
        raise ValidationError(PHONE_INVALID)
    return phone


def _postcode_field(value) -> str:
    postcode = postcode_normalise(value)
    if postcode is None:
        raise ValidationError(POSTCODE_INVALID)
    return postcode


class CheckoutForm(forms.Form):
    recipient_name = forms.CharField(label=_("收货人"), max_length=50)
    phone = forms.CharField(label=_("电话"), max_length=32)
    province = forms.CharField(label=_("省份"), max_length=30)
    city = forms.CharField(label=_("城市"), max_length=30)
    district = forms.CharField(label=_("区县"), max_length=30, required=False)
    address_line = forms.CharField(label=_("详细地址"), max_length=200)
    postcode = forms.CharField(label=_("邮编"), max_length=10, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
    shipping_method = forms.ChoiceField(label=_("配送方式"), widget=forms.RadioSelect)
    coupon_code = forms.CharField(label=_("优惠券码"), max_length=32, required=False)
    points = forms.IntegerField(label=_("使用积分"), min_value=0, required=False, initial=0)
    # Made when the page renders: a double submit of this page makes one order.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    ADDRESS_FIELDS = (
        "recipient_name",
        "phone",
        "province",
        "city",
        "district",
        "address_line",
        "postcode",
        "note",
    )

    def clean_phone(self):
        return _phone_field(self.cleaned_data.get("phone"))

    def clean_postcode(self):
        return _postcode_field(self.cleaned_data.get("postcode"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_method"].choices = [
            (key, rule["label"]) for key, rule in settings.SHOP_SHIPPING_METHODS.items()
        ]
        self.fields["shipping_method"].initial = next(iter(settings.SHOP_SHIPPING_METHODS))
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def address(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.ADDRESS_FIELDS}


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("评分"), coerce=int, widget=forms.RadioSelect, choices=[(n, "★" * n) for n in range(5, 0, -1)]
    )
    title = forms.CharField(label=_("标题"), max_length=100, required=False)
    body = forms.CharField(
        label=_("内容"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
