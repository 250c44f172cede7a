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
    "shop:payment_callback", "shop:payment_webhook",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate limits live in the cache; start and leave each test with none counted.
    cache.clear()
    yield
    cache.clear()


def _member(email="member@example.com", *, staff=False):
    user = get_user_model().objects.create_user(email=email, password=PASSWORD, is_staff=staff)
    EmailAddress.objects.update_or_create(user=user, email=email,
                                          defaults={"verified": True, "primary": True})
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


def _post_targets():
    """State-changing forms a signed-in member can post to, found from the URL names that exist."""
    from django.urls import NoReverseMatch, reverse

    candidates = [
        "account_logout", "account_email", "account_change_password", "set_language",
        "shop:cart_add", "shop:cart_update", "shop:cart_remove", "shop:checkout",
        "members:profile", "members:address_create", "members:personalisation",
        "members:coupon_claim_code", "members:data_export", "members:account_delete",
    ]
    targets = []
    for name in candidates:
        try:
            targets.append(reverse(name))
        except NoReverseMatch:
            continue  # not built (yet); the exempt walk above still covers it
    return targets


@pytest.mark.django_db
def test_posting_without_a_csrf_token_is_refused_on_every_form():
    # given a signed-in member whose browser does not send the token
    user = _member()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    targets = _post_targets()
    assert "/accounts/logout/" in targets
    for url in targets:
        # when a form is posted without it
        response = client.post(url, {})
        # then it is refused and nothing happens
        assert response.status_code == 403, f"POST {url} without a token gave {response.status_code}"
    assert get_user_model().objects.filter(pk=user.pk).exists()


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


@pytest.mark.django_db
def test_api_writes_with_a_session_need_the_csrf_token():
    user = _member()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/cart/items/", {"product": 1, "quantity": 1})
    # 404 only while the cart API does not exist; if it does, it must refuse without a token
    assert response.status_code in (403, 404)


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
        response = client.post("/accounts/signup/", {
            "email": f"new{number}@example.com", "password1": PASSWORD, "password2": PASSWORD})
        assert response.status_code == 302, f"signup {number} refused early"
    response = client.post("/accounts/signup/", {
        "email": "one-too-many@example.com", "password1": PASSWORD, "password2": PASSWORD})
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
    code = ("from django.conf import settings as s; "
            "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_CONTENT_TYPE_NOSNIFF, s.SECURE_REFERRER_POLICY)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789"}
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
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
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
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
