"""Bounded in-process caches for values that never change for their key: a stored questionnaire
version parsed (by its checksum), a respondent page's form class (checksum, page, language), a
compiled INSERT (its shape). Keys are stable values, never `id()` (an address a freed object's
successor may get), so two different questionnaires can not share an entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """At most `maxsize` entries; a new one pushes out the least recently used, so a process that
    serves many campaigns keeps the ones in use instead of dropping everything at a threshold.

    Thread-safe (gunicorn threads, Celery workers). `get_or_compute` computes outside the lock:
    two threads missing the same key at once may both compute, and the second value replaces
    the first; that is harmless for values that depend only on the key.
    """

    def __init__(self, name: str, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"cache {name!r}: maxsize must be at least 1, got {maxsize}")
        self.name = name
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<BoundedCache {self.name!r} {len(self)}/{self.maxsize}>"

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value kept for `key` (now the most recently used), or None."""
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: K, value: V) -> V:
        """Keep `value` for `key`, dropping the least recently used entry when full."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """The value kept for `key`, or `compute()` kept for it from now on."""
        found = self.get(key)
        return self.put(key, compute()) if found is None else found

    def discard(self, key: K) -> None:
        """Forget `key` (nothing happens when it is not kept)."""
        with self._lock:
            self._entries.pop(key, None)
