"""Reading a Fireworks list to its end, safely: ``{<items>, nextPageToken}`` pages.

A list is read page by page with the SDK's own page objects. It stops when there is no next
page token, when a page brings nothing new (a server, proxy or mock answering the same page
again would otherwise loop for ever), or after ``max_pages``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

MAX_PAGES = 100


def items(
    first: Any,
    *,
    page_items: Callable[[Any], list[Any] | None],
    key: Callable[[Any], str],
    max_pages: int = MAX_PAGES,
) -> Iterator[Any]:
    """Every item of a paged listing, each once. ``first`` is the first page the SDK returned;
    ``page_items(page)`` its items (``lambda p: p.models``); ``key(item)`` identifies an item."""
    seen: set[str] = set()
    page = first
    for _ in range(max_pages):
        new = 0
        for item in page_items(page) or []:
            ident = key(item)
            if ident in seen:
                continue
            seen.add(ident)
            new += 1
            yield item
        if not new or not page.has_next_page():
            return
        page = page.get_next_page()
