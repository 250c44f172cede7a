"""Favourites (收藏): save and unsave products, recorded as behaviour events."""
from django.db import IntegrityError, transaction

from members.models import Favourite


def _event(user, product, kind):
    try:
        from shop.services.events import event_record
    except ImportError:  # storefront events not there yet
        return
    event_record(user=user, product=product, kind=kind)


def favourite_toggle(*, user, product) -> bool:
    """Save `product` for `user`, or unsave it if saved; returns whether it is now saved."""
    with transaction.atomic():
        deleted, _rows = Favourite.objects.filter(user=user, product=product).delete()
        if deleted:
            saved = False
        else:
            try:
                with transaction.atomic():
                    Favourite.objects.create(user=user, product=product)
            except IntegrityError:
                pass  # a double click saved it a moment ago
            saved = True
    _event(user, product, "favourite" if saved else "unfavourite")
    return saved
