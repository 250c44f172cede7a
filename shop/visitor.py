"""A stable anonymous id per browser session, kept across login (Django cycles the session key)."""

import secrets

SESSION_VISITOR_KEY = "shop_session_key"
# Set once the visitor has a guest cart, so pages skip the cart-count query until then.
SESSION_HAS_CART_KEY = "shop_has_cart"


def visitor_key(request, *, create=False):
    """The visitor's anonymous id from the session; made on first use when `create` is true.

    Stored inside the session data (which survives `cycle_key()` at login), so events and a guest
    cart recorded before login can be found afterwards.
    """
    session = getattr(request, "session", None)
    if session is None:
        return ""
    key = session.get(SESSION_VISITOR_KEY, "")
    if not key and create:
        key = secrets.token_hex(16)
        session[SESSION_VISITOR_KEY] = key
    return key
