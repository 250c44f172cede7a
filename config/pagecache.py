"""Whole-page caching of guests' storefront pages (home, category, product, search).

A copy is shared only by visitors who would see the same bytes:
- guests only (a member's pages carry their favourites, prices and forms), and only guests without a
  cart, pending messages or a personal recommendation list (home, once their session has history);
- keyed by the catalogue version (shop.cache_keys, bumped on every change of what pages show), the
  active recommendation run, the language and the path with its query string normalised;
- no per-visitor data inside: every CSRF token in the page is swapped for a placeholder before storing
  and for the serving visitor's own token (from their own CSRF cookie) on the way out, so POST forms
  (add to cart, language, 不感兴趣) work for each visitor and no one receives another's token;
- what the view records for its visitor (the product view, the search, the recommendation impressions)
  is noted while it renders (core.pagework) and done again for each visitor a copy is served to.
Responses vary on Cookie (the session and the language cookie decide all of the above). Any cache
failure means the page renders as if there were no cache (config.cache.FailSoftRedisCache).
"""

import functools
import hashlib
import logging
import re
import uuid
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db.models.signals import post_save
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from django.utils.translation import get_language

from core.pagework import pagework_capture, pagework_note
from recommender.serving import guest_version, serving_state
from shop.cache_keys import catalogue_version
from shop.models import Event
from shop.services.events import event_record
from shop.visitor import SESSION_HAS_CART_KEY, visitor_key

logger = logging.getLogger(__name__)

# Not 64 letters and digits, so it can never be mistaken for a token itself.
CSRF_PLACEHOLDER = "__pagecache-csrf__"
_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
_SESSION_MESSAGES_KEY = "_messages"  # django.contrib.messages' SessionStorage
HEADER = "X-Page-Cache"  # hit / miss / bypass: lets the load test and operators see the cache work


def _timeout() -> int:
    return getattr(settings, "PAGE_CACHE_SECONDS", 60)


def _is_shared_view(request, *, personal_recommendations: bool) -> bool:
    """True when this visitor sees what every other guest without a cart sees."""
    if request.method != "GET" or _timeout() <= 0:
        return False
    user = getattr(request, "user", None)
    if user is None or user.is_authenticated:
        return False
    if CookieStorage.cookie_name in request.COOKIES:
        return False  # messages waiting in their cookie
    session = getattr(request, "session", None)
    if session is None:
        return False
    if session.get(SESSION_HAS_CART_KEY) or _SESSION_MESSAGES_KEY in session:
        return False  # the header's cart count / messages are this visitor's
    # On home, a guest whose session has history sees their own list (folded in from it).
    return not (personal_recommendations and guest_version(visitor_key(request)) is not None)


def normalised_url(request) -> str:
    """The path and its query string with empty values dropped and parameters sorted."""
    pairs = sorted(parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=False))
    query = urlencode(pairs)
    return f"{request.path}?{query}" if query else request.path


def page_key(request, page: str, version: str) -> str:
    run_id = serving_state()["run_id"]  # a new recommendation run changes the blocks on the page
    url = hashlib.sha256(normalised_url(request).encode()).hexdigest()[:32]
    return f"pagecache:{page}:{version}:{run_id}:{get_language()}:{url}"


def _without_tokens(request, content: str) -> tuple[str, bool] | None:
    """The page with this request's CSRF tokens replaced by the placeholder; None if one would leak."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return content, False  # no token was handed out while rendering
    found = False

    def swap(match):
        nonlocal found
        if _unmask_cipher_token(match.group(0)) == secret:
            found = True
            return CSRF_PLACEHOLDER
        return match.group(0)

    content = _TOKEN_RE.sub(swap, content)
    if secret in content:
        return None  # the bare secret in the page: never share it
    return content, found


def _record_event_for_replay(sender, instance, created, **kwargs):
    # Events the view saves while it renders a cacheable page are noted (outside such a render: no-op).
    if created:
        pagework_note(
            "config.pagecache.event_replay",
            kind=instance.kind,
            product_id=instance.product_id,
            query=instance.query,
            value=instance.value,
            context=instance.context,
        )


post_save.connect(_record_event_for_replay, sender=Event, dispatch_uid="config.pagecache.event_replay")


def event_replay(request, *, kind, product_id, query, value, context):
    """The behaviour event of a cached page, for the guest it is served to (as the view would record it)."""
    event_record(
        kind=kind,
        session_key=visitor_key(request, create=True),
        product_id=product_id,
        query=query,
        value=value,
        context={**(context or {}), "path": request.path[:200]},
    )


def _replay(request, notes) -> None:
    for handler, kwargs in notes:
        try:
            import_string(handler)(request, **kwargs)
        except Exception:  # recording is a bonus: the page is served regardless
            logger.exception("page work %s failed on a cached page", handler)


def _cache_get(key):
    try:
        return cache.get(key)
    except Exception:
        logger.warning("page cache unavailable", exc_info=True)
        return None


def _cache_set(key, entry) -> None:
    try:
        cache.set(key, entry, _timeout())
    except Exception:
        logger.warning("page cache unavailable", exc_info=True)


def _from_entry(request, entry) -> HttpResponse:
    content = entry["content"]
    if entry["csrf"]:
        content = content.replace(CSRF_PLACEHOLDER, get_token(request))  # this visitor's own token
    response = HttpResponse(content, content_type=entry["content_type"])
    response[HEADER] = "hit"
    return response


def _storable(response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies  # a cookie the view set is someone's
        and "private" not in response.get("Cache-Control", "")
        and "no-store" not in response.get("Cache-Control", "")
    )


def guest_page(page: str, *, personal_recommendations: bool = False):
    """Decorate a GET view whose guest rendering is the same for every guest without a cart.

    `personal_recommendations`: the page shows a guest's own recommendation list once their session
    has history (home); such guests get the page rendered for them.
    Every request (members too) gets `request.catalogue_version` for `{% cache %}` fragments.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            version = catalogue_version()
            # Without a version (cache down) fragments get a key of their own: never shared, never stale.
            request.catalogue_version = version or uuid.uuid4().hex
            key = None
            if version is not None and _is_shared_view(
                request, personal_recommendations=personal_recommendations
            ):
                try:
                    key = page_key(request, page, version)
                except Exception:
                    logger.warning("page cache key failed", exc_info=True)
            if key is None:
                response = view(request, *args, **kwargs)
                response[HEADER] = "bypass"
                return response
            entry = _cache_get(key)
            if entry is not None:
                _replay(request, entry["work"])
                response = _from_entry(request, entry)
            else:
                with pagework_capture() as notes:
                    response = view(request, *args, **kwargs)
                response[HEADER] = "miss"
                # A message the view itself queued is this visitor's: such a page is never stored.
                added_message = getattr(getattr(request, "_messages", None), "added_new", False)
                if _storable(response) and not added_message:
                    stored = _without_tokens(request, response.content.decode(response.charset))
                    if stored is not None:
                        content, has_token = stored
                        _cache_set(
                            key,
                            {
                                "content": content,
                                "csrf": has_token,
                                "content_type": response["Content-Type"],
                                "work": notes,
                            },
                        )
            # The session (cart, messages) and the language cookie decide what a visitor is shown.
            patch_vary_headers(response, ("Cookie",))
            return response

        return wrapper

    return decorate
