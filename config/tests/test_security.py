"""Cross-cutting security: CSRF everywhere, rate limits on guessable doors, admin for staff, no secrets."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple-42"

# Views that may skip Django's CSRF check, and why. Anything else marked csrf_exempt fails the test.
CSRF_EXEMPT_ALLOWED = {
    # The payment provider calls back server-to-server; it proves itself with a signature instead.
    "shop:payment_callback",
    # Alipay's and WeChat Pay's notifies, authenticated by the provider's RSA signature (shop.payments).
    "shop:payment_notify",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate limits live in the cache; start and leave each test with none counted.
    cache.clear()
    yield
    cache.clear()


def _member(email="member@example.com", *, staff=False):
    user = get_user_model().objects.create_user(email=email, password=PASSWORD, is_staff=staff)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry, namespace)
        elif isinstance(entry, URLPattern):
            yield f"{prefix}{entry.name}" if entry.name else str(entry.pattern), entry.callback


# ---- CSRF ------------------------------------------------------------------------------------


def test_no_view_skips_csrf_except_the_allowed_server_to_server_callbacks():
    # given every URL the project serves
    exempt = set()
    for name, callback in _walk(get_resolver()):
        view_class = getattr(callback, "cls", None)
        if view_class is not None and hasattr(view_class, "authentication_classes"):
            continue  # DRF: SessionAuthentication enforces CSRF itself (tested below)
        if getattr(callback, "csrf_exempt", False):
            exempt.add(name)
    # then only the allowed ones skip the check
    assert exempt <= CSRF_EXEMPT_ALLOWED, f"views that skip CSRF: {sorted(exempt - CSRF_EXEMPT_ALLOWED)}"


DUMMY_ARGUMENTS = {
    "int": "1",
    "slug": "x",
    "str": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _every_route(resolver=None, prefix="/"):
    """(path, name) for every path() route, with dummy values for its parameters."""
    from django.urls.resolvers import RoutePattern

    for entry in (resolver or get_resolver()).url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # regex routes: the admin's app index only (GET)
        route = re.sub(
            r"<(?:(\w+):)?\w+>", lambda m: DUMMY_ARGUMENTS[m.group(1) or "str"], str(entry.pattern)
        )
        if isinstance(entry, URLResolver):
            yield from _every_route(entry, prefix + route)
        else:
            yield prefix + route, entry.name


@pytest.mark.django_db
def test_posting_without_a_csrf_token_is_refused_on_every_url():
    # given staff (who can reach every form, the admin's and the API's too) without the token
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(_member("staff@example.com", staff=True))
    allowed = {name.split(":")[-1] for name in CSRF_EXEMPT_ALLOWED}
    checked = 0
    for path, name in _every_route():
        if name in allowed:
            continue
        # when anything is posted to it
        response = client.post(path, {})
        # then Django (or DRF for session-authenticated API calls) refuses it
        assert response.status_code == 403, f"POST {path} ({name}) without a token: {response.status_code}"
        checked += 1
    assert checked > 50  # the walk really covered the site


@pytest.mark.django_db
def test_login_without_a_token_is_refused_and_with_the_token_works():
    _member()
    client = Client(enforce_csrf_checks=True)
    form = {"login": "member@example.com", "password": PASSWORD}
    assert client.post("/accounts/login/", form).status_code == 403
    # with the token the page hands out, the same post signs in
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post("/accounts/login/", {**form, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


# ---- rate limits -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_is_refused_after_five_failures_even_with_the_right_password(client):
    # given a member whose password someone is guessing
    _member()
    for _attempt in range(5):
        response = client.post("/accounts/login/", {"login": "member@example.com", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    # when the sixth attempt has the right password
    response = client.post("/accounts/login/", {"login": "member@example.com", "password": PASSWORD})
    # then it is still refused
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


@pytest.mark.django_db
def test_signup_is_refused_after_twenty_per_minute_from_one_address(client):
    for number in range(20):
        response = client.post(
            "/accounts/signup/",
            {"email": f"new{number}@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert response.status_code == 302, f"signup {number} refused early"
    response = client.post(
        "/accounts/signup/",
        {"email": "one-too-many@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 429
    assert not get_user_model().objects.filter(email="one-too-many@example.com").exists()


@pytest.mark.django_db
def test_password_reset_is_refused_after_five_requests_for_one_email(client, mailoutbox):
    _member()
    for _attempt in range(5):
        response = client.post("/accounts/password/reset/", {"email": "member@example.com"})
        assert response.status_code == 302
    response = client.post("/accounts/password/reset/", {"email": "member@example.com"})
    assert response.status_code == 429
    assert len(mailoutbox) == 5


# ---- admin -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_login_goes_through_the_rate_limited_member_login(client):
    response = client.get("/admin/login/?next=/admin/shop/order/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fshop%2Forder%2F"
    # an outside `next` is not followed
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    # the admin's own POST login form is gone with it, so its failures count like any login
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 302


@pytest.mark.django_db
def test_admin_is_for_staff_only(client):
    # given a member who is not staff
    client.force_login(_member())
    # when they open the admin
    response = client.get("/admin/")
    # then they are sent to log in (as someone else), not shown the admin
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    # and staff get in
    client.force_login(_member("staff@example.com", staff=True))
    assert client.get("/admin/").status_code == 200


# ---- headers ---------------------------------------------------------------------------------


def test_production_sends_hsts_and_secure_cookies():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_CONTENT_TYPE_NOSNIFF, s.SECURE_REFERRER_POLICY)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    hsts, subdomains, session_secure, csrf_secure, nosniff, referrer = result.stdout.split()
    assert int(hsts) >= 31536000
    assert subdomains == session_secure == csrf_secure == nosniff == "True"
    assert referrer == "strict-origin-when-cross-origin"


# ---- secrets ---------------------------------------------------------------------------------

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret": re.compile(r"aws_secret_access_key\s*[=:]\s*\S{30,}", re.I),
    "SECRET_KEY literal": re.compile(r"""SECRET_KEY\s*=\s*["'](?!insecure-)[^"']{8,}["']"""),
    "Slack/GitHub token": re.compile(r"\b(?:xox[bap]-[0-9A-Za-z-]{10,}|gh[pousr]_[0-9A-Za-z]{30,})\b"),
}


def test_no_secrets_in_tracked_files():
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    found = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary: images, compiled catalogues
        for label, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                found.append(f"{name}: {label}: {match.group(0)[:40]}")
    assert not found, "secrets in the repository:\n" + "\n".join(found)


def test_the_secret_scan_would_catch_a_leak():
    leak = 'SECRET_KEY = "' + "k3y" * 10 + '"'
    assert SECRET_PATTERNS["SECRET_KEY literal"].search(leak)
    assert not SECRET_PATTERNS["SECRET_KEY literal"].search('default="insecure-local-development-key"')
    assert SECRET_PATTERNS["AWS access key"].search("AKIA" + "ABCDEFGHIJKLMNOP")


# ---- uploads ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, content",
    [
        ("script.png", b"<script>alert(1)</script>"),  # not an image at all
        ("page.jpg", b"GIF89a<html><body onload=alert(1)>"),  # a polyglot, not JPEG
    ],
)
def test_a_product_image_that_is_not_a_real_image_is_refused_by_the_model(name, content):
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shop.models import ProductImage
    from shop.tests.factories import ProductFactory

    # the admin's inline form validates through the model field, so this is what staff would hit
    image = ProductImage(product=ProductFactory(), image=SimpleUploadedFile(name, content))
    with pytest.raises(ValidationError) as error:
        image.full_clean()
    assert "image" in error.value.message_dict


@pytest.mark.django_db
def test_an_oversized_product_image_is_refused_by_the_model():
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shop.models import ProductImage
    from shop.tests.factories import ProductFactory, image_bytes

    upload = SimpleUploadedFile("huge.jpg", image_bytes())
    upload.size = 6 * 1024 * 1024
    with pytest.raises(ValidationError):
        ProductImage(product=ProductFactory(), image=upload).full_clean()


@pytest.mark.django_db
def test_coupon_codes_are_refused_after_ten_wrong_guesses_even_the_right_one(client):
    import uuid
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from members.models import CouponTemplate
    from shop.models import Order
    from shop.tests.factories import ProductFactory

    # given a member with a cart and a real public code
    CouponTemplate.objects.create(
        name="真券", amount=Decimal("5.00"), code="REALCODE", valid_until=timezone.now() + timedelta(days=1)
    )
    client.force_login(_member())
    client.post("/cart/add/", {"product_id": ProductFactory(stock=10).pk, "quantity": 1})
    form = {
        "recipient_name": "张三",
        "phone": "13800138000",
        "province": "上海市",
        "city": "上海市",
        "address_line": "人民路 1 号",
        "shipping_method": "standard",
        "points": 0,
    }

    # when they guess ten codes that do not exist
    for guess in range(10):
        client.post(
            "/checkout/", {**form, "coupon_code": f"GUESS{guess:04d}", "idempotency_key": uuid.uuid4().hex}
        )
    # then the eleventh try is refused, though the code is real
    response = client.post(
        "/checkout/", {**form, "coupon_code": "REALCODE", "idempotency_key": uuid.uuid4().hex}
    )
    assert response.status_code == 200
    assert "券码输入错误次数过多" in response.content.decode()
    assert not Order.objects.filter(coupon_discount__gt=0).exists()
