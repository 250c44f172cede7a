"""Work a page owes each visitor it is shown to (behaviour events, impressions), noted for cached copies.

A page served from a whole-page cache skips its view; what the view recorded for the visitor who
caused the render is noted here while it renders, stored with the page and done again for each
visitor the copy is served to. Outside such a render, noting does nothing.
"""

import contextlib
from contextvars import ContextVar

_notes: ContextVar[list | None] = ContextVar("pagework_notes", default=None)


def pagework_note(handler: str, **kwargs) -> None:
    """Note that serving this page again means calling `handler(request, **kwargs)` (a dotted path).

    The kwargs are stored with the page: plain values only (ids, strings, lists).
    """
    notes = _notes.get()
    if notes is not None:
        notes.append((handler, kwargs))


@contextlib.contextmanager
def pagework_capture():
    """Collect the notes made while the block runs (this thread or task only)."""
    notes: list = []
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)
