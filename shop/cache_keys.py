"""The catalogue's version for page caches: bumped when what the storefront shows changes, never scanned."""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

CATALOGUE_VERSION_KEY = "shop:catalogue-version"


def catalogue_version() -> str | None:
    """The current version (made on first use); None when the cache cannot answer (pages skip caching)."""
    try:
        version = cache.get(CATALOGUE_VERSION_KEY)
        if version is None:
            cache.add(CATALOGUE_VERSION_KEY, uuid.uuid4().hex[:12], timeout=None)
            version = cache.get(CATALOGUE_VERSION_KEY)
    except Exception:  # a page must never fail because its cache did
        logger.warning("catalogue version unavailable", exc_info=True)
        return None
    return version


def _bump() -> None:
    try:
        cache.set(CATALOGUE_VERSION_KEY, uuid.uuid4().hex[:12], timeout=None)
    except Exception:
        logger.warning("catalogue version not bumped: cached pages live out their timeout", exc_info=True)


def catalogue_changed() -> None:
    """Every cached page and fragment keyed by the old version is gone for readers.

    Bumped now and again after the commit: a page rendered in between (from rows not yet committed)
    was stored under the middle version, which the second bump retires.
    """
    _bump()
    transaction.on_commit(_bump)
