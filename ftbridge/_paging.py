"""One way to read a paginated listing that always ends.

Every provider reads its paged lists (events, checkpoints, job listings...) through
:func:`paginate`, so the same two guards hold everywhere: a page that brings nothing new ends the
listing (a server, proxy or mock that keeps answering ``has_more: true`` with the same page
cannot make ftbridge loop), and no listing reads more than ``max_pages`` pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger("ftbridge")

#: The default page cap: at 100 items a page, 100,000 items.
MAX_PAGES = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, and the cursor of the next page (None: the last)."""

    items: Sequence[T]
    next: Hashable | None = None


def paginate(
    fetch_page: Callable[[Hashable | None], Page[T]],
    *,
    key: Callable[[T], Hashable],
    max_pages: int = MAX_PAGES,
    what: str = "items",
) -> Iterator[T]:
    """Yield the items of a paginated listing, each once, fetching pages only as needed.

    ``fetch_page(cursor)`` makes one request (``cursor`` is None for the first page) and
    returns a :class:`Page`. ``key(item)`` is the item's identity (its id). The listing ends
    when a page says there is no next one, when a page is empty or brings no item not seen
    before, when the next cursor was already used, or after ``max_pages`` pages (logged as a
    warning, naming ``what``). Stopping the iteration early (``break``) fetches nothing more.

    An OpenAI-style listing (``data``, ``has_more``, ``after`` = the last id)::

        def fetch(cursor):
            page = client.fine_tuning.jobs.list_events(job_id, limit=100,
                                                       after=cursor or openai.omit)
            last = page.data[-1].id if page.data else None
            return Page(page.data, last if page.has_more else None)

        for event in paginate(fetch, key=lambda e: e.id, what=f"events of {job_id}"):
            ...

    A listing with a ``next_cursor`` field: ``Page(body["data"], body.get("next_cursor"))``;
    with page numbers: ``Page(items, number + 1 if items else None)``.
    """
    if max_pages < 1:
        raise ValueError("max_pages must be at least 1")
    seen: set[Hashable] = set()
    cursors: set[Hashable] = set()
    cursor: Hashable | None = None
    for _ in range(max_pages):
        page = fetch_page(cursor)
        new = 0
        for item in page.items:
            ident = key(item)
            if ident in seen:
                continue
            seen.add(ident)
            new += 1
            yield item
        if page.next is None or new == 0 or page.next in cursors:
            return
        cursors.add(page.next)
        cursor = page.next
    log.warning("stopped reading %s after %d pages (the listing did not end)", what, max_pages)
