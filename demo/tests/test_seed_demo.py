"""seed_demo: the small size seeds quickly, deterministically, with the logins it promises."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from members.models import User
from shop.models import Category, Event, Order, OrderLine, Product, Review

pytestmark = pytest.mark.django_db


def _fingerprint():
    return {
        "products": list(Product.objects.order_by("slug").values_list("slug", "name", "price", "stock")),
        "lines": list(
            OrderLine.objects.order_by("order__number", "sku").values_list(
                "order__number", "sku", "quantity", "order__status"
            )
        ),
        "reviews": sorted(Review.objects.values_list("user__email", "product__slug", "rating")),
        "events": Event.objects.count(),
    }


def test_small_seed_has_the_promised_shape_and_logins():
    out = StringIO()
    call_command("seed_demo", size="small", seed=7, stdout=out)
    assert Product.objects.count() == 200
    assert Category.objects.filter(parent__isnull=True).count() == 6
    assert Category.objects.filter(parent__isnull=False).count() >= 18
    assert User.objects.filter(email__startswith="member").count() == 99
    assert Order.objects.count() == 500
    assert Event.objects.count() >= 5000
    assert Product.objects.filter(sales_count__gt=0).exists()
    assert Product.objects.filter(rating_count__gt=0).exists()
    assert "demo@example.com / demo12345" in out.getvalue()
    assert "admin@example.com / admin12345" in out.getvalue()
    demo = authenticate(email="demo@example.com", password="demo12345")
    admin = authenticate(email="admin@example.com", password="admin12345")
    assert demo and admin and admin.is_superuser
    assert EmailAddress.objects.filter(user=demo, verified=True, primary=True).exists()
    assert Order.objects.filter(user=demo).exists()  # the demo shopper has a history


def test_popularity_is_long_tailed_and_members_stick_to_favourites():
    call_command("seed_demo", size="small", seed=3, verbosity=0)
    views = list(Event.objects.filter(kind="view").values_list("product_id", flat=True))
    from collections import Counter

    counts = sorted(Counter(views).values(), reverse=True)
    top_tenth = sum(counts[: max(1, len(counts) // 10)])
    assert top_tenth / len(views) > 0.25  # the top 10% of products draw far more than 10%
    member = User.objects.filter(email="member0001@example.com").get()
    categories = Counter(
        Event.objects.filter(user=member, product__isnull=False).values_list(
            "product__category_id", flat=True
        )
    )
    top3 = sum(n for _c, n in categories.most_common(3))
    assert top3 / sum(categories.values()) > 0.7


def test_same_seed_same_data():
    call_command("seed_demo", size="small", seed=11, verbosity=0)
    first = _fingerprint()
    call_command("seed_demo", size="small", seed=11, reset=True, verbosity=0)
    assert _fingerprint() == first
    call_command("seed_demo", size="small", seed=12, reset=True, verbosity=0)
    assert _fingerprint()["products"] != first["products"]


def test_if_empty_skips_but_still_ensures_logins():
    call_command("seed_demo", size="small", seed=1, verbosity=0)
    User.objects.filter(email="admin@example.com").delete()
    out = StringIO()
    call_command("seed_demo", size="small", if_empty=True, stdout=out)
    assert "skipped" in out.getvalue() and "admin@example.com / admin12345" in out.getvalue()
    assert Product.objects.count() == 200
    with pytest.raises(CommandError):
        call_command("seed_demo", size="small", verbosity=0)
