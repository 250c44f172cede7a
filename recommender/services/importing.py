"""Importing behaviour history from a CSV: every row validated first, then one transaction."""
import csv
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from members.models import User
from shop.models import Event, Product

REQUIRED_COLUMNS = ("member", "product", "kind", "timestamp")
IMPORTABLE_KINDS = {k.value for k in Event.Kind} - {Event.Kind.REC_IMPRESSION, Event.Kind.REC_CLICK}
MAX_PROBLEMS = 1000
BATCH_SIZE = 5000


@dataclass(frozen=True)
class RowProblem:
    row: int        # line number in the file, the header being line 1
    column: str
    reason: str


class EventImportError(Exception):
    def __init__(self, problems):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _parse_timestamp(text):
    text = (text or "").strip()
    value = parse_datetime(text)
    if value is None:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # naive times are shop time (Asia/Shanghai)
    return value


def events_import(*, handle, source: str = "") -> int:
    """Validate every row of the CSV in `handle`; import all of them or raise EventImportError."""
    reader = csv.DictReader(handle)
    header = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise EventImportError([RowProblem(1, c, "required column missing") for c in missing])
    reader.fieldnames = header
    rows = list(reader)
    if not rows:
        raise EventImportError([RowProblem(1, "-", "the file has no data rows")])

    member_keys = {(r.get("member") or "").strip() for r in rows}
    product_keys = {(r.get("product") or "").strip() for r in rows}
    ids = [int(k) for k in member_keys if k.isdigit()]
    members = {str(pk): pk for pk in User.objects.filter(pk__in=ids).values_list("pk", flat=True)}
    members.update({email.lower(): pk for pk, email in User.objects.filter(
        email__in=[k for k in member_keys if "@" in k]).values_list("pk", "email")})
    products = {sku: pk for pk, sku in Product.objects.filter(sku__in=product_keys).values_list("pk", "sku")}
    products.update({str(pk): pk for pk in Product.objects.filter(
        pk__in=[int(k) for k in product_keys if k.isdigit()]).values_list("pk", flat=True)})

    problems, events = [], []
    for line, row in enumerate(rows, start=2):
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
            row_problems.append(RowProblem(line, "kind", f"{kind!r} is not one of {', '.join(sorted(IMPORTABLE_KINDS))}"))
        created_at = _parse_timestamp(row.get("timestamp"))
        if created_at is None:
            row_problems.append(RowProblem(line, "timestamp", f"{row.get('timestamp')!r} is not an ISO 8601 time"))
        elif created_at > timezone.now():
            row_problems.append(RowProblem(line, "timestamp", "in the future"))
        value = None
        raw_value = (row.get("value") or "").strip()
        if raw_value:
            try:
                value = float(raw_value)
            except ValueError:
                row_problems.append(RowProblem(line, "value", f"{raw_value!r} is not a number"))
        if kind == Event.Kind.RATING and (value is None or not 1 <= value <= 5):
            row_problems.append(RowProblem(line, "value", "a rating needs a value from 1 to 5"))
        if row_problems:
            problems.extend(row_problems)
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        events.append(Event(user_id=user_id, product_id=product_id, kind=kind, value=value,
                            created_at=created_at, context={"source": "import", "file": source[-100:]}))
    if problems:
        raise EventImportError(problems)
    with transaction.atomic():
        Event.objects.bulk_create(events, batch_size=BATCH_SIZE)
    return len(events)
