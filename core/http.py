"""Request helpers: where a request really came from, and where it may safely go next."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


@lru_cache(maxsize=8)
def _networks(proxies: tuple) -> tuple:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ())))


def client_ip(request) -> str:
    """The client's address. Behind a trusted proxy (settings.TRUSTED_PROXIES, addresses or networks)
    it is the right-most address in X-Forwarded-For that is not itself a trusted proxy; from anyone
    else the header is ignored, so a client cannot choose the address its limits are counted under.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not _is_trusted(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") or ""
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote  # a malformed chain: count it under the proxy, never under a made-up name
        if not _is_trusted(hop):
            return hop
    return remote


def safe_next_url(request, fallback: str = "/") -> str:
    """The `next` parameter (POST, then GET) when it points back into this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target
        and "\x00" not in target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback
