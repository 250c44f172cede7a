"""Importing behaviour history from a CSV: every row validated first, then one transaction.

Files come from other systems and from Excel in China: UTF-8 with or without a BOM, or GBK/GB18030.
A second import of the same file adds nothing (rows already there are counted, not doubled).
"""

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from members.models import User
from shop.models import Event, Product

REQUIRED_COLUMNS = ("member", "product", "kind", "timestamp")
IMPORTABLE_KINDS = {k.value for k in Event.Kind} - {Event.Kind.REC_IMPRESSION, Event.Kind.REC_CLICK}
MAX_PROBLEMS = 1000
BATCH_SIZE = 5000
ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 reads every GBK file


@dataclass(frozen=True)
class RowProblem:
    row: int  # line number in the file, the header being line 1
    column: str
    reason: str


class EventImportError(Exception):
    def __init__(self, problems):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    imported: int
    already_there: int  # rows of the file that were imported before (same member, product, kind, time)


def csv_text_decode(data: bytes) -> str:
    """The text of a CSV file in UTF-8 (BOM or not) or GBK/GB18030; EventImportError for anything else."""
    if b"\x00" in data[:65536]:
        raise EventImportError([RowProblem(1, "-", "this is not a text CSV file (it contains NUL bytes)")])
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise EventImportError([RowProblem(1, "-", "the file is neither UTF-8 nor GBK text")])


def _parse_timestamp(text):
    text = (text or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        value = parse_datetime(text)  # raises ValueError on impossible dates such as 2025-02-30
    except ValueError:
        return None
    if value is None:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # naive times are shop time (Asia/Shanghai)
    return value


def events_import(*, handle, source: str = "", progress=None) -> ImportResult:
    """Validate every row of the CSV in `handle` (text, or bytes in UTF-8/GBK); import all of the new
    ones or raise EventImportError. `progress(n)` is called as rows are checked (a progress bar)."""
    if isinstance(handle, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(handle, "mode", ""):
        handle = io.StringIO(csv_text_decode(handle.read()), newline="")
    try:
        reader = csv.DictReader(handle)
        header = [(c or "").strip().lstrip("\ufeff").lower() for c in (reader.fieldnames or [])]
    except (csv.Error, UnicodeDecodeError) as error:
        raise EventImportError([RowProblem(1, "-", f"not a readable CSV file: {error}")]) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise EventImportError([RowProblem(1, c, "required column missing") for c in missing])
    reader.fieldnames = header
    try:
        rows = list(reader)
    except (csv.Error, UnicodeDecodeError) as error:
        raise EventImportError(
            [RowProblem(reader.line_num or 1, "-", f"not a readable CSV row: {error}")]
        ) from None
    if not rows:
        raise EventImportError([RowProblem(1, "-", "the file has no data rows")])

    member_keys = {(r.get("member") or "").strip() for r in rows}
    product_keys = {(r.get("product") or "").strip() for r in rows}
    ids = [int(k) for k in member_keys if k.isdigit()]
    members = {str(pk): pk for pk in User.objects.filter(pk__in=ids).values_list("pk", flat=True)}
    emails = [k.lower() for k in member_keys if "@" in k]
    members.update(
        {
            email.lower(): pk
            for pk, email in User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=emails)
            .values_list("pk", "email")
        }
    )
    products = {sku: pk for pk, sku in Product.objects.filter(sku__in=product_keys).values_list("pk", "sku")}
    products.update(
        {
            str(pk): pk
            for pk in Product.objects.filter(
                pk__in=[int(k) for k in product_keys if k.isdigit()]
            ).values_list("pk", flat=True)
        }
    )

    problems, events, seen = [], [], set()
    for line, row in enumerate(rows, start=2):
        if progress is not None and line % 1000 == 0:
            progress(1000)
        row_problems = []
        member_key = (row.get("member") or "").strip()
        product_key = (row.get("product") or "").strip()
        kind = (row.get("kind") or "").strip()
        user_id = members.get(member_key.lower() if "@" in member_key else member_key)
        if not member_key:
            row_problems.append(RowProblem(line, "member", "empty"))
        elif user_id is None:
            row_problems.append(RowProblem(line, "member", f"no member with email or id {member_key!r}"))
        product_id = products.get(product_key)
        if not product_key:
            row_problems.append(RowProblem(line, "product", "empty"))
        elif product_id is None:
            row_problems.append(RowProblem(line, "product", f"no product with sku or id {product_key!r}"))
        if kind not in IMPORTABLE_KINDS:
            row_problems.append(
                RowProblem(line, "kind", f"{kind!r} is not one of {', '.join(sorted(IMPORTABLE_KINDS))}")
            )
        created_at = _parse_timestamp(row.get("timestamp"))
        if created_at is None:
            row_problems.append(
                RowProblem(line, "timestamp", f"{row.get('timestamp')!r} is not an ISO 8601 time")
            )
        elif created_at > timezone.now():
            row_problems.append(RowProblem(line, "timestamp", "in the future"))
        value = None
        raw_value = (row.get("value") or "").strip()
        if raw_value:
            try:
                value = float(raw_value)
            except ValueError:
                row_problems.append(RowProblem(line, "value", f"{raw_value[:40]!r} is not a number"))
            else:
                if not math.isfinite(value):
                    row_problems.append(RowProblem(line, "value", f"{raw_value!r} is not a finite number"))
                    value = None
        if kind == Event.Kind.RATING and (value is None or not 1 <= value <= 5):
            row_problems.append(RowProblem(line, "value", "a rating needs a value from 1 to 5"))
        if row_problems:
            problems.extend(row_problems)
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        key = (user_id, product_id, kind, created_at)
        if key in seen:
            continue  # the same row twice in one file is one event
        seen.add(key)
        events.append(
            Event(
                user_id=user_id,
                product_id=product_id,
                kind=kind,
                value=value,
                created_at=created_at,
                context={"source": "import", "file": source[-100:]},
            )
        )
    if progress is not None:
        progress(len(rows) % 1000)
    if problems:
        raise EventImportError(problems)
    with transaction.atomic():
        existing = _existing_keys(events)
        new = [e for e in events if (e.user_id, e.product_id, e.kind, e.created_at) not in existing]
        Event.objects.bulk_create(new, batch_size=BATCH_SIZE)
    return ImportResult(imported=len(new), already_there=len(events) - len(new))


def _existing_keys(events) -> set:
    """(member, product, kind, time) of the events already stored among those about to be imported."""
    if not events:
        return set()
    times = [e.created_at for e in events]
    found = Event.objects.filter(
        user_id__in={e.user_id for e in events}, created_at__gte=min(times), created_at__lte=max(times)
    ).values_list("user_id", "product_id", "kind", "created_at")
    return set(found.iterator(chunk_size=BATCH_SIZE))
