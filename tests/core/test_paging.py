"""ftbridge._paging.paginate: every listing ends, whatever the server answers."""

from __future__ import annotations

import logging
from collections.abc import Hashable

import pytest

from ftbridge._paging import Page, paginate


def test_a_page_that_repeats_ends_the_listing() -> None:
    calls: list[Hashable | None] = []

    def fetch(cursor: Hashable | None) -> Page[int]:
        calls.append(cursor)
        return Page([1, 2, 3], next="more")  # has_more for ever, the same data

    assert list(paginate(fetch, key=lambda i: i)) == [1, 2, 3]
    assert calls == [None, "more"]  # the second page brought nothing new


def test_a_cursor_used_before_ends_the_listing() -> None:
    pages = {None: Page([1], "a"), "a": Page([2], "b"), "b": Page([3], "a")}
    assert list(paginate(lambda c: pages[c], key=lambda i: i)) == [1, 2, 3]


def test_a_listing_that_never_ends_stops_at_the_cap_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[Hashable | None] = []

    def fetch(cursor: Hashable | None) -> Page[int]:
        calls.append(cursor)
        return Page([len(calls)], next=f"after-{len(calls)}")

    with caplog.at_level(logging.WARNING, logger="ftbridge"):
        assert list(paginate(fetch, key=lambda i: i, max_pages=25, what="events")) == list(
            range(1, 26)
        )
    assert len(calls) == 25
    assert "stopped reading events after 25 pages" in caplog.text


def test_stopping_early_fetches_nothing_more_and_an_empty_page_ends() -> None:
    calls: list[Hashable | None] = []

    def fetch(cursor: Hashable | None) -> Page[int]:
        calls.append(cursor)
        n = len(calls)
        return Page([n * 10, n * 10 + 1] if n < 3 else [], next=n)

    for item in paginate(fetch, key=lambda i: i):
        if item == 10:
            break
    assert calls == [None]
    calls.clear()
    assert list(paginate(fetch, key=lambda i: i)) == [10, 11, 20, 21]
    assert len(calls) == 3
    with pytest.raises(ValueError):
        list(paginate(fetch, key=lambda i: i, max_pages=0))
