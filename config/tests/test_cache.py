"""The Redis cache backend keeps pages up while Redis is unreachable."""

import logging

import pytest
from django.core.cache.backends.redis import RedisCache

from config.cache import FailSoftRedisCache

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there


def _dead_cache():
    return FailSoftRedisCache(DEAD_REDIS, {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}})


def test_dead_redis_reads_miss_writes_are_dropped_and_one_warning_is_logged(caplog):
    # given a cache whose server is not there
    cache = _dead_cache()
    # when every kind of call is made
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        results = [
            cache.get("k", "fallback"),
            cache.get_many(["a", "b"]),
            cache.set("k", 1),
            cache.add("lock", True),
            cache.incr("n"),
            cache.delete("k"),
            cache.has_key("k"),
            cache.get_or_set("g", lambda: 7),
        ]
    # then nothing raises, reads miss, add fails open, and the outage is logged once
    assert results == ["fallback", {}, None, True, 1, False, False, 7]
    assert [r.message for r in caplog.records].count(next(r.message for r in caplog.records)) == 1


def test_plain_redis_cache_would_raise_so_the_wrapper_is_what_saves_us():
    from redis.exceptions import ConnectionError as RedisConnectionError

    cache = RedisCache(DEAD_REDIS, {"OPTIONS": {"socket_connect_timeout": 0.2}})
    with pytest.raises(RedisConnectionError):
        cache.get("k")
