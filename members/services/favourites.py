"""Favourites (收藏): save and unsave products, recorded as behaviour events."""

from django.db import IntegrityError, transaction

from members.models import Favourite
from shop.services.events import event_record


def favourite_add(*, user, product) -> Favourite:
    """Save `product` for `user`; saving it again (or twice at once) keeps the one row."""
    with transaction.atomic():
        try:
            # A savepoint: a concurrent save of the same product fails the insert without the outer
            # transaction; the row it made is the answer.
            with transaction.atomic():
                favourite, created = Favourite.objects.get_or_create(user=user, product=product)
        except IntegrityError:
            favourite, created = Favourite.objects.get(user=user, product=product), False
        if created:
            event_record(user=user, product=product, kind="favourite")
    return favourite


def favourite_remove(*, user, product) -> bool:
    """Unsave `product`; returns whether it was saved (removing twice is harmless)."""
    with transaction.atomic():
        deleted, _rows = Favourite.objects.filter(user=user, product=product).delete()
        if deleted:
            event_record(user=user, product=product, kind="unfavourite")
    return bool(deleted)


def favourite_toggle(*, user, product) -> bool:
    """The site's button: unsave if saved, else save; returns whether it is now saved."""
    if favourite_remove(user=user, product=product):
        return False
    favourite_add(user=user, product=product)
    return True
