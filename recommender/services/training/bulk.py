"""Writing top-N rows in bulk: COPY on PostgreSQL, bulk_create elsewhere, in constant memory."""

from __future__ import annotations

import csv
import io
import json
import operator

from django.db import connection

BATCH_SIZE = 5000

# Field types whose Python value is what COPY's CSV needs (csv writes None as an empty field).
PLAIN_COPY_FIELDS = (
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
)


def rows_write(model, rows) -> int:
    """Write model instances from a generator in batches (constant memory); returns how many.

    PostgreSQL gets COPY from an in-memory CSV (several times faster than INSERTs for the
    hundreds of thousands of top-N rows a run writes); other databases get bulk_create.
    """
    write = batch_writer()
    written, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            written += write(model, batch)
            batch = []
    if batch:
        written += write(model, batch)
    return written


def batch_writer():
    return copy_batch if connection.vendor == "postgresql" else insert_batch


def insert_batch(model, batch) -> int:
    model.objects.bulk_create(batch, batch_size=BATCH_SIZE)
    return len(batch)


def copy_batch(model, batch) -> int:
    """COPY one batch. CSV's unquoted empty field is NULL; FORCE_NOT_NULL makes it an empty string
    in the NOT NULL columns (so "" stays "", None stays NULL)."""
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.pk]
    quote = connection.ops.quote_name
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if all(f.get_internal_type() in PLAIN_COPY_FIELDS for f in fields):
        # Plain values straight from the instances: the per-field preparation below costs more
        # than the COPY itself.
        values = operator.attrgetter(*(f.attname for f in fields))
        writer.writerows(values(obj) for obj in batch)
    else:
        for obj in batch:
            writer.writerow(
                [_csv_value(f.get_db_prep_save(f.pre_save(obj, True), connection)) for f in fields]
            )
    buffer.seek(0)
    not_null = [quote(f.column) for f in fields if not f.null]
    sql = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN "
        f"WITH (FORMAT csv{', FORCE_NOT_NULL (' + ', '.join(not_null) + ')' if not_null else ''})"
    )
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, buffer)
    return len(batch)


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value
