"""Behaviour events for the recommender: recorded cheaply and never allowed to break a page."""

import logging

from django.db import connection, transaction

from shop.models import Event
from shop.signals import behaviour_recorded
from shop.visitor import visitor_key

logger = logging.getLogger(__name__)

QUERY_MAX_LENGTH = 200


def _inside_transaction():
    """True inside a transaction the code opened (not the one a test case wraps every test in)."""
    return connection.in_atomic_block and any(
        not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )


def _announce(event):
    """Tell listeners (the recommender's refresh); a listener's failure is logged, never raised."""
    for receiver, result in behaviour_recorded.send_robust(sender=Event, event=event):
        if isinstance(result, Exception):
            logger.error("%s failed on a %s event", receiver, event.kind, exc_info=result)


def event_record(
    *, kind, user=None, session_key="", product=None, query="", value=None, context=None, product_id=None
):
    """Store one event; returns it, or None when it could not be stored (logged, never raised).

    `product_id` may stand in for `product` when only the id is at hand (saves a query).
    """
    try:
        if user is not None and not getattr(user, "is_authenticated", False):
            user = None
        event = Event(
            kind=kind,
            user=user,
            session_key=(session_key or "")[:40],
            product=product,
            query=(query or "").replace("\x00", "")[:QUERY_MAX_LENGTH],
            value=value,
            context=context or {},
        )
        if product is None and product_id is not None:
            event.product_id = product_id
        if _inside_transaction():
            # A savepoint keeps a failed insert from poisoning the caller's transaction.
            with transaction.atomic():
                event.save(force_insert=True)
        else:
            event.save(force_insert=True)
        _announce(event)
        return event
    except Exception:
        logger.exception("could not record %s event", kind)
        return None


def event_record_for_request(request, *, kind, product=None, query="", value=None, context=None):
    """event_record for the visitor of `request`: the member, else the anonymous visitor id."""
    try:
        user = getattr(request, "user", None)
        is_member = user is not None and user.is_authenticated
        session_key = visitor_key(request, create=not is_member)
        context = dict(context or {})
        context.setdefault("path", request.path[:200])
    except Exception:
        logger.exception("could not read the request for a %s event", kind)
        return None
    return event_record(
        kind=kind,
        user=user if is_member else None,
        session_key=session_key,
        product=product,
        query=query,
        value=value,
        context=context,
    )
