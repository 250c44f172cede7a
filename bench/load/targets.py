"""Picks the pages the load test visits and writes them as a Lua table for wrk (run in manage.py shell)."""

import secrets
from importlib import import_module
from urllib.parse import quote

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

from shop.models import Category, Product

LOAD_MEMBER_EMAIL = "load-test-member@example.com"
SEARCH_TERMS = ["手机", "耳机", "咖啡", "T恤", "茶", "运动鞋", "面膜", "背包"]


def _lua_string(value):
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _member_session():
    """A signed-in session for one verified member, made directly (wrk cannot fill in forms)."""
    User = get_user_model()
    user = User.objects.filter(email=LOAD_MEMBER_EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=LOAD_MEMBER_EMAIL, password=secrets.token_urlsafe(16))
    EmailAddress.objects.update_or_create(
        user=user, email=LOAD_MEMBER_EMAIL, defaults={"verified": True, "primary": True}
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore()  # cached_db: in Redis and the database
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def write(path):
    categories = list(
        Category.objects.filter(is_active=True, products__is_active=True)
        .values_list("slug", flat=True)
        .distinct()[:50]
    )
    products = list(Product.objects.filter(is_active=True, stock__gte=1000).values_list("slug", "id")[:200])
    if len(products) < 20:  # demo stock is small: take what sells, cart_add caps at stock anyway
        products = list(Product.objects.filter(is_active=True, stock__gt=0).values_list("slug", "id")[:200])
    if not categories or not products:
        raise SystemExit("no active categories/products: seed the database first (seed_demo)")
    names = list(Category.objects.filter(is_active=True).values_list("name", flat=True)[:20])
    queries = [quote(term) for term in SEARCH_TERMS + names]
    lines = [
        "return {",
        "  categories = {" + ", ".join(_lua_string(slug) for slug in categories) + "},",
        "  products = {"
        + ", ".join(f"{{slug = {_lua_string(slug)}, id = {pk}}}" for slug, pk in products)
        + "},",
        "  queries = {" + ", ".join(_lua_string(query) for query in queries) + "},",
        f"  session = {_lua_string(_member_session())},",
        # Django accepts the unmasked 32-character secret as both cookie and form token.
        f"  csrf = {_lua_string(secrets.token_hex(16))},",
        "}",
    ]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
