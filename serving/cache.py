"""The shared Redis cache of several workers and hosts (GSD_CACHE=redis), failing soft.

A cache is an optimisation: when Redis cannot be reached, or answers with something this code
cannot read, the app computes the answer itself instead of failing the request. After a failure
it leaves Redis alone for RETRY_SECONDS (so requests do not each wait for a timeout), and logs
one line when the cache goes away and one when it is back.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger("gsd.cache")

RETRY_SECONDS = 5.0
# Short, so that a Redis that hangs costs a request a fraction of a second, once per retry period.
REDIS_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "health_check_interval": 30}
UNREADABLE = (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError)


class ResilientRedisCache(RedisCache):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False

    def _call(self, operation, default, *args, **kwargs):
        if self._down and time.monotonic() < self._down_until:
            return default
        try:
            result = operation(*args, **kwargs)
        except RedisError as err:
            with self._lock:
                if not self._down:
                    log.warning("cache unavailable, serving without it: %s", str(err).splitlines()[0][:200])
                self._down = True
                self._down_until = time.monotonic() + RETRY_SECONDS
            return default
        except UNREADABLE:  # an entry written by another version of the code
            return default
        if self._down:
            with self._lock:
                if self._down:
                    log.warning("cache available again")
                    self._down = False
        return result

    def get(self, key):
        return self._call(super().get, None, key)

    def get_many(self, *keys):
        return self._call(super().get_many, [None] * len(keys), *keys)

    def has(self, key):
        return self._call(super().has, False, key)

    def set(self, key, value, timeout=None):
        return self._call(super().set, False, key, value, timeout)

    def add(self, key, value, timeout=None):
        return self._call(super().add, False, key, value, timeout)

    def set_many(self, mapping, timeout=None):
        return self._call(super().set_many, [], mapping, timeout)

    def delete(self, key):
        return self._call(super().delete, False, key)

    @classmethod
    def factory(cls, app, config, args, kwargs):
        config.setdefault("CACHE_OPTIONS", dict(REDIS_OPTIONS))
        return super().factory(app, config, args, kwargs)
