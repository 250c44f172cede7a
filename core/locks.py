"""Row locks, one way everywhere: only the rows of the model asked for, always in primary-key order.

`select_for_update()` with `select_related` would also lock the joined rows (on PostgreSQL) in no
fixed order, and two services locking the same rows in different orders deadlock under load. Every
service that locks goes through these helpers (Saleor keeps its lock helpers in one module likewise).
"""

from django.db.models import Model, QuerySet


def lock_rows(queryset: QuerySet) -> list:
    """Lock the queryset's own rows in primary-key order and return them, read inside the lock."""
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def lock_row(queryset_or_instance, pk=None):
    """Lock one row and return it read again (its state may have moved since the caller loaded it).

    Pass a model instance, or a queryset and a primary key. Raises the model's DoesNotExist.
    """
    if isinstance(queryset_or_instance, Model):
        instance = queryset_or_instance
        queryset, pk = type(instance)._default_manager.all(), instance.pk
    else:
        queryset = queryset_or_instance
    return queryset.select_for_update(of=("self",)).get(pk=pk)


def lock_row_or_none(queryset: QuerySet):
    """The first row of the queryset, locked, or None."""
    return queryset.select_for_update(of=("self",)).order_by("pk").first()
