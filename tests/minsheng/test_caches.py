"""A bounded cache keeps at most its size, pushes out the least recently used entry first, and
keeps one value per key."""

from __future__ import annotations

import pytest

from minsheng.caches import BoundedCache


def test_a_cache_never_holds_more_than_its_size():
    cache: BoundedCache[int, str] = BoundedCache("numbers", 3)
    for n in range(10):
        cache.put(n, str(n))
        assert len(cache) <= 3
    assert [n for n in range(10) if n in cache] == [7, 8, 9]


def test_the_least_recently_used_entry_goes_first():
    cache: BoundedCache[str, int] = BoundedCache("letters", 2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert "a" in cache and "c" in cache and "b" not in cache


def test_a_value_is_computed_once_per_key_and_never_shared_between_keys():
    cache: BoundedCache[str, list[str]] = BoundedCache("lists", 8)
    calls: list[str] = []

    def compute(key: str) -> list[str]:
        calls.append(key)
        return [key]

    first = cache.get_or_compute("x", lambda: compute("x"))
    again = cache.get_or_compute("x", lambda: compute("x"))
    other = cache.get_or_compute("y", lambda: compute("y"))
    assert first is again and first == ["x"]
    assert other == ["y"] and other is not first
    assert calls == ["x", "y"]


def test_a_forgotten_key_is_computed_again():
    cache: BoundedCache[str, int] = BoundedCache("counts", 4)
    cache.put("k", 1)
    cache.discard("k")
    cache.discard("never there")
    assert cache.get("k") is None
    assert cache.get_or_compute("k", lambda: 2) == 2


def test_a_cache_needs_room_for_one_entry():
    with pytest.raises(ValueError, match="cache 'empty': maxsize must be at least 1, got 0"):
        BoundedCache("empty", 0)
