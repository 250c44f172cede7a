"""The trail of staff views of unmasked personal data (who saw whose data, when, on which page)."""

from django.db import transaction

from members.models import PersonalDataAccess

PAGE_MAX = PersonalDataAccess._meta.get_field("page").max_length


def personal_data_access_record(*, staff, member_ids, view: str, page: str) -> int:
    """Write one row per member shown; returns how many were written."""
    ids = sorted({int(pk) for pk in member_ids if pk})
    if not ids or staff is None or not staff.pk:
        return 0
    with transaction.atomic():
        PersonalDataAccess.objects.bulk_create(
            [
                PersonalDataAccess(
                    staff_id=staff.pk,
                    staff_number=staff.pk,
                    member_id=pk,
                    member_number=pk,
                    view=view[:80],
                    page=page[:PAGE_MAX],
                )
                for pk in ids
            ]
        )
    return len(ids)
