"""Member centre pages: they render, guests go to login, and nobody reaches another member's things."""

import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from members.models import Address, Coupon, Favourite, Profile
from members.services import points as points_services
from members.tests.factories import (
    AddressFactory,
    CouponFactory,
    CouponTemplateFactory,
    OrderFactory,
    ProductFactory,
    TierFactory,
    UserFactory,
)
from shop.models import Event

pytestmark = pytest.mark.django_db

PAGES = [
    "members:centre",
    "members:points",
    "members:coupons",
    "members:favourites",
    "members:recent",
    "members:addresses",
    "members:address_create",
    "members:profile",
    "members:privacy",
]


@pytest.fixture
def member(client):
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.mark.parametrize("name", PAGES)
def test_guest_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_member_pages_render(client, member, name):
    TierFactory(code="normal", name="普通会员", position=0)
    TierFactory(code="silver", name="银卡", position=1, min_spend=Decimal("1000"))
    points_services.points_staff_adjust(user=member, delta=120, staff=None, note="测试")
    CouponFactory(user=member)
    CouponTemplateFactory(is_claimable=True)
    AddressFactory(user=member, is_default=True)
    Favourite.objects.create(user=member, product=ProductFactory())
    response = client.get(reverse(name))
    assert response.status_code == 200


def test_centre_shows_points_tier_progress(client, member):
    TierFactory(code="normal", name="普通会员", position=0)
    TierFactory(code="silver", name="银卡", position=1, min_spend=Decimal("1000"))
    points_services.points_staff_adjust(user=member, delta=120, staff=None, note="测试")
    body = client.get(reverse("members:centre")).content.decode()
    assert "120" in body and "银卡" in body and "w-0" in body


def test_other_members_address_is_404(client, member):
    theirs = AddressFactory()
    assert client.get(reverse("members:address_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("members:address_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("members:address_default", args=[theirs.pk])).status_code == 404
    assert Address.objects.filter(pk=theirs.pk).exists()


def test_other_members_coupons_points_and_favourites_do_not_show(client, member):
    stranger = UserFactory()
    theirs = CouponFactory(user=stranger)
    points_services.points_staff_adjust(user=stranger, delta=777, staff=None, note="别人的")
    Favourite.objects.create(user=stranger, product=ProductFactory(name="别人的收藏"))
    assert theirs.code not in client.get(reverse("members:coupons")).content.decode()
    assert "777" not in client.get(reverse("members:points")).content.decode()
    assert "别人的收藏" not in client.get(reverse("members:favourites")).content.decode()


def test_other_members_order_is_404(client, member):
    theirs = OrderFactory()
    assert client.get(reverse("shop:order_detail", args=[theirs.number])).status_code == 404


def test_address_book_first_is_default_and_switching(client, member):
    data = {
        "recipient_name": "王五",
        "phone": "13700137000",
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
        "address_line": "建国路1号",
        "postcode": "100000",
    }
    assert client.post(reverse("members:address_create"), data).status_code == 302
    assert (
        client.post(reverse("members:address_create"), {**data, "recipient_name": "赵六"}).status_code == 302
    )
    first, second = Address.objects.get(recipient_name="王五"), Address.objects.get(recipient_name="赵六")
    assert first.is_default and not second.is_default
    client.post(reverse("members:address_default", args=[second.pk]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default
    client.post(reverse("members:address_delete", args=[second.pk]))
    first.refresh_from_db()
    assert first.is_default


def test_bad_address_gets_form_errors_not_a_500(client, member):
    response = client.post(
        reverse("members:address_create"), {"recipient_name": "", "phone": "abc", "postcode": "12"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors and not Address.objects.exists()


def _image(fmt="PNG", size=(20, 20)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 0, 0)).save(buffer, fmt)
    return buffer.getvalue()


def test_profile_update_with_avatar_and_age(client, member):
    response = client.post(
        reverse("members:profile"),
        {
            "display_name": "小明",
            "gender": "m",
            "birth_date": "1990-05-01",
            "phone": "13800000000",
            "avatar": SimpleUploadedFile("a.png", _image(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.display_name == "小明" and profile.avatar and profile.age >= 35


def test_profile_refuses_non_image_avatar_and_future_birthday(client, member):
    response = client.post(
        reverse("members:profile"),
        {
            "birth_date": "2999-01-01",
            "avatar": SimpleUploadedFile("a.png", b"not an image", content_type="image/png"),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "avatar" in errors and "birth_date" in errors


def test_favourite_toggle_and_guest(client, member):
    product = ProductFactory()
    url = reverse("members:favourite_toggle")
    response = client.post(url, {"product_id": product.pk}, HTTP_ACCEPT="application/json")
    assert response.json() == {"saved": True}
    assert Event.objects.filter(user=member, kind="favourite", product=product).exists()
    client.post(url, {"product_id": product.pk, "next": "/member/favourites/"})
    assert not Favourite.objects.filter(user=member).exists()
    assert client.post(url, {"product_id": "x"}).status_code == 400
    client.logout()
    assert client.post(url, {"product_id": product.pk}).status_code == 302


def test_claim_from_claim_centre_and_refusal_message(client, member):
    template = CouponTemplateFactory(is_claimable=True, per_member_limit=1)
    client.post(reverse("members:coupon_claim", args=[template.pk]))
    response = client.post(reverse("members:coupon_claim", args=[template.pk]), follow=True)
    assert Coupon.objects.filter(user=member).count() == 1
    assert "限领" in response.content.decode()


def test_personalization_switch(client, member):
    from members.selectors import members_opted_out_ids, personalization_allowed

    client.post(reverse("members:privacy"), {})
    assert not personalization_allowed(member) and member.pk in members_opted_out_ids()
    client.post(reverse("members:privacy"), {"personalization_enabled": "on"})
    assert personalization_allowed(member)


def test_data_export_is_json_of_own_data(client, member):
    AddressFactory(user=member, recipient_name="我自己")
    AddressFactory(recipient_name="别人")
    response = client.get(reverse("members:data_export"))
    data = json.loads(response.content)
    assert response["Content-Disposition"].startswith("attachment")
    assert data["account"]["email"] == member.email
    assert [a["recipient_name"] for a in data["addresses"]] == ["我自己"]


def test_account_delete_needs_reauthentication(client, member):
    response = client.get(reverse("members:account_delete"))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]


def test_checkout_is_prefilled_from_the_default_address(client, member):
    AddressFactory(user=member, recipient_name="默认收货人", is_default=True)
    product = ProductFactory()
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})
    form = client.get(reverse("shop:checkout")).context["form"]
    assert form.initial["recipient_name"] == "默认收货人" and form.initial["idempotency_key"]


def test_product_page_has_the_favourite_button(client, member):
    product = ProductFactory()
    Favourite.objects.create(user=member, product=product)
    body = client.get(product.get_absolute_url()).content.decode()
    assert reverse("members:favourite_toggle") in body and 'aria-pressed="true"' in body
