"""A Redis cache that degrades to "no cache" while Redis is down, instead of failing the page."""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a failure, skip Redis for this long: a dead server costs one timeout, not one per call.
RETRY_AFTER_SECONDS = 5.0


def _fail_soft(fallback):
    """Run the cache call; on a Redis error log once per outage and return `fallback(*args)`."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if time.monotonic() < self._down_until:
                return fallback(*args, **kwargs)
            try:
                result = method(self, *args, **kwargs)
            except RedisError as error:
                if not self._down_until:
                    logger.warning("cache unavailable, serving without it: %s", error)
                self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
                return fallback(*args, **kwargs)
            if self._down_until:
                logger.warning("cache available again")
                self._down_until = 0.0
            return result

        return wrapper

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _get_or_set(key, default, *args, **kwargs):
    return default() if callable(default) else default


def _incr(key, delta=1, *args, **kwargs):
    return delta


def _none(*args, **kwargs):
    return None


def _false(*args, **kwargs):
    return False


def _true(*args, **kwargs):
    # add() answers True: locks and rate limits built on it (allauth's) fail open, so logins
    # keep working during an outage rather than every attempt being refused.
    return True


def _empty_dict(*args, **kwargs):
    return {}


def _empty_list(*args, **kwargs):
    return []


class FailSoftRedisCache(RedisCache):
    """Django's RedisCache; every call survives Redis being unreachable (logged as a warning)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0

    get = _fail_soft(_default)(RedisCache.get)
    get_many = _fail_soft(_empty_dict)(RedisCache.get_many)
    get_or_set = _fail_soft(_get_or_set)(RedisCache.get_or_set)
    set = _fail_soft(_none)(RedisCache.set)
    set_many = _fail_soft(_empty_list)(RedisCache.set_many)
    add = _fail_soft(_true)(RedisCache.add)
    touch = _fail_soft(_false)(RedisCache.touch)
    delete = _fail_soft(_false)(RedisCache.delete)
    delete_many = _fail_soft(_none)(RedisCache.delete_many)
    has_key = _fail_soft(_false)(RedisCache.has_key)
    incr = _fail_soft(_incr)(RedisCache.incr)
    decr = _fail_soft(_incr)(RedisCache.decr)
    clear = _fail_soft(_false)(RedisCache.clear)
